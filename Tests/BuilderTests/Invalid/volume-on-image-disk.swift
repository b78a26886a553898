import ImageDSL

// The data partition of the old install, on the system disk.
let system = OperatingSystem {
    HostName("bigmem7")
    Disk {
        PersistentVolume("home", mountPoint: "/home", size: .tebibytes(1), device: "/dev/sda3")  // error: persistent volume 'home' is on /dev/sda3, a partition of /dev/sda, the disk the image is written to
        PersistentVolume("scratch", mountPoint: "/scratch", size: .tebibytes(1), device: "/dev/nvme0n1")  // error: persistent volume 'scratch' is on /dev/nvme0n1, the disk the image is written to
        PersistentVolume("data", mountPoint: "/data", size: .tebibytes(1), device: "/dev/nvme1n1")
    }
}
