extension Deployment {
    /// What is wrong with deploying a system with this disk layout here: a power-off that
    /// would cut persistent volumes off, volumes snapshotted with no pool image named, pool
    /// images named for volumes the system does not declare.
    func problems(with disk: DiskLayout) -> [String] {
        var problems: [String] = []
        if shutdown == .powerOff, let volume = disk.persistentVolumes.first {
            problems.append("shutdown: .powerOff would cut persistent volume '\(volume.name)' off without a clean shutdown; "
                + "a machine with persistent volumes shuts down cleanly (shutdown: .clean)")
        }
        guard machine != nil else { return problems }
        for volume in disk.persistentVolumes where volume.snapshotBeforeDeploy && volumes[volume.name] == nil {
            problems.append("volume '\(volume.name)' is snapshotted before each deployment, but the Deployment names no pool image for it "
                + "(volumes: [\"\(volume.name)\": \"<image>\"])")
        }
        for name in volumes.keys.sorted() where !disk.persistentVolumes.contains(where: { $0.name == name }) {
            problems.append("the Deployment names a disk for volume '\(name)', which the system does not declare")
        }
        return problems
    }
}
