import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Disk {
        PersistentVolume("scratch", mountPoint: "/scratch", size: .gibibytes(10))
    }
    Deployment(to: .local(), disk: "h1-root", machine: .libvirt("h1"), shutdown: .powerOff)  // error: shutdown: .powerOff would cut persistent volume 'scratch' off without a clean shutdown; a machine with persistent volumes shuts down cleanly (shutdown: .clean)
}
