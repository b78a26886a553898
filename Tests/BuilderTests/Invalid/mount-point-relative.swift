import ImageDSL

let system = OperatingSystem {
    HostName("bigmem9")
    Disk {
        PersistentVolume("data", mountPoint: "data", size: .tebibytes(2), device: "/dev/sdb")  // error: mount point 'data' of persistent volume 'data' is not an absolute path
    }
}
