import ImageDSL

let system = OperatingSystem {
    HostName("bigmem6")
    Disk {
        PersistentVolume("scratch", mountPoint: "/scratch//fast", size: .tebibytes(2), device: "/dev/sdb")  // error: mount point '/scratch//fast' of persistent volume 'scratch' is not a clean absolute path (no spaces, '.', '..', '//' or trailing '/'): write '/scratch/fast'
        PersistentVolume("fast", mountPoint: "/scratch/fast", size: .tebibytes(1), device: "/dev/sdc")  // error: persistent volume 'fast' is mounted on '/scratch/fast', already used by persistent volume 'scratch'
    }
}
