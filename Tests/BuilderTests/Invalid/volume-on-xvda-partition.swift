import ImageDSL

// A VM's data on the partition after the root, which the image rewrites.
let system = OperatingSystem {
    HostName("svc1")
    Disk {
        PersistentVolume("data", mountPoint: "/srv/data", size: .gibibytes(100), device: "/dev/vda2")  // error: persistent volume 'data' is on /dev/vda2, a partition of /dev/vda
    }
}
