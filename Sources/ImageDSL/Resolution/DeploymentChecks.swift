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
        if isBareMetal {
            if disk.rootSlots != .ab {
                problems.append("a bare-metal machine is reinstalled onto the root slot it is not running: "
                    + "declare its disk with two root slots (Disk(rootSlots: .ab))")
            }
            for volume in disk.persistentVolumes {
                if let device = volume.device, Self.isKernelName(device) {
                    problems.append("persistent volume '\(volume.name)' is on '\(device)', a name the kernel may give another disk "
                        + "at the next boot: name it by /dev/disk/by-id/…, /dev/disk/by-path/…, LABEL=, UUID= or PARTLABEL=")
                }
            }
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

    /// Whether `device` is a kernel name (`/dev/sdb1`, `/dev/nvme1n1p2`, `/dev/vdb`), which
    /// follows the order disks are found in.
    static func isKernelName(_ device: String) -> Bool {
        guard device.hasPrefix("/dev/") else { return false }
        return device.dropFirst(5).wholeMatch(of: /(sd|vd|hd|xvd)[a-z]+[0-9]*|nvme[0-9]+n[0-9]+(p[0-9]+)?|mmcblk[0-9]+(p[0-9]+)?/) != nil
    }
}
