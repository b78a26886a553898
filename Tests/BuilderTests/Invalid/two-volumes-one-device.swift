import ImageDSL

// The second disk's line was duplicated and only the name changed.
let system = OperatingSystem {
    HostName("bigmem13")
    Disk {
        PersistentVolume("home", mountPoint: "/home", size: .tebibytes(4), device: "/dev/sdb")
        PersistentVolume("scratch", mountPoint: "/scratch", size: .tebibytes(4), device: "/dev/sdb")  // error: persistent volumes 'home' and 'scratch' are both on /dev/sdb
    }
}
