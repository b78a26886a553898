import ImageDSL

let system = OperatingSystem {
    HostName("bigmem4")
    Disk {
        PersistentVolume("home", mountPoint: "/home/", size: .tebibytes(2), device: "/dev/sdb")  // error: mount point '/home/' of persistent volume 'home' is not a clean absolute path (no spaces, '.', '..', '//' or trailing '/'): write '/home'
    }
}
