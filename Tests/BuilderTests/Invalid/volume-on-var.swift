import ImageDSL

let system = OperatingSystem {
    HostName("bigmem11")
    Disk {
        PersistentVolume("var", mountPoint: "/var", size: .tebibytes(1), device: "/dev/sdb")  // error: persistent volume 'var' cannot be mounted on '/var': it holds
    }
}
