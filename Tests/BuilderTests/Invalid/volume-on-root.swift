import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Disk {
        PersistentVolume("data", mountPoint: "/", size: .gibibytes(10))  // error: persistent volume 'data' cannot be mounted on '/'
    }
}
