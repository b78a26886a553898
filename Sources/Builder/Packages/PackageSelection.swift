import ImageDSL

/// The packages a system asks for: what it declares and its services need, plus what every
/// image needs to boot and be managed. The archive's Essential and Priority-required packages
/// come on top when resolving.
enum PackageSelection {
    static func requested(by model: SystemModel) -> [String] {
        var names: Set<String> = ["apt", "systemd-sysv", "udev", "initramfs-tools", "e2fsprogs", model.kernelPackage]
        names.formUnion(model.packages)
        if model.locales.contains(where: { !["C", "C.UTF-8", "POSIX"].contains($0) }) { names.insert("locales") }
        if model.keyboard.layout != "us" || model.keyboard.variant != nil { names.formUnion(["keyboard-configuration", "console-setup"]) }
        let fileSystems = [model.disk.rootFileSystem] + model.disk.partitions.map(\.fileSystem)
            + model.disk.persistentVolumes.map(\.fileSystem)
        if fileSystems.contains(.xfs) { names.insert("xfsprogs") }
        if fileSystems.contains(.btrfs) { names.insert("btrfs-progs") }
        if fileSystems.contains(.vfat) { names.insert("dosfstools") }
        return names.sorted()
    }
}
