import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Disk {
        PersistentVolume("data", mountPoint: "/data", size: .gibibytes(10), snapshotBeforeDeploy: true)
    }
    Deployment(to: .rbd("vm"), disk: "vm-101-disk-0", machine: .libvirt("h1"))  // error: volume 'data' is snapshotted before each deployment, but the Deployment names no pool image for it (volumes: ["data": "<image>"])
}
