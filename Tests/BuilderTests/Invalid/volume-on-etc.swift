import ImageDSL

let system = OperatingSystem {
    HostName("bigmem12")
    Disk {
        PersistentVolume("config", mountPoint: "/etc", size: .gibibytes(1), device: "/dev/sdb")  // error: persistent volume 'config' cannot be mounted on '/etc': the image owns it
    }
}
