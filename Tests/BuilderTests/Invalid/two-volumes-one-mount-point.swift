import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Disk {
        PersistentVolume("data", mountPoint: "/data", size: .gibibytes(10))
        PersistentVolume("data2", mountPoint: "/data", size: .gibibytes(10))  // error: persistent volume 'data2' is mounted on '/data', already used by persistent volume 'data'
    }
}
