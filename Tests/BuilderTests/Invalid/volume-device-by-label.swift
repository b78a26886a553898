import ImageDSL

let system = OperatingSystem {
    HostName("bigmem14")
    Disk {
        PersistentVolume("home", mountPoint: "/home", size: .tebibytes(4), device: "LABEL=home")  // error: device 'LABEL=home' of persistent volume 'home' is not a /dev path
    }
}
