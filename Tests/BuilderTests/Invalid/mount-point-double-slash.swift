import ImageDSL

let system = OperatingSystem {
    HostName("bigmem8")
    Disk {
        PersistentVolume("scratch", mountPoint: "//scratch", size: .tebibytes(2), device: "/dev/sdb")  // error: mount point '//scratch' of persistent volume 'scratch' is not a clean absolute path
    }
}
