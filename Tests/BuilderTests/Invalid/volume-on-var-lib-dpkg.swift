import ImageDSL

// "Keep the package database across reinstalls": the image owns it.
let system = OperatingSystem {
    HostName("bigmem10")
    Disk {
        PersistentVolume("dpkg", mountPoint: "/var/lib/dpkg", size: .gibibytes(1), device: "/dev/sdb")  // error: persistent volume 'dpkg' cannot be mounted on '/var/lib/dpkg': the image owns it
    }
}
