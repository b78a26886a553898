/// The canonical description of one machine: a system with its inheritance applied and its
/// services folded in. Everything downstream (the build, diffs, tests, deployment) reads this.
///
/// Lists that are sets (packages, users, files, units…) are sorted, so two definitions that
/// declare the same machine in a different order give the same model. Source locations are
/// kept in ``sources`` for error messages and are not part of the canonical form.
public struct SystemModel: Codable, Equatable, Sendable {
    public var hostName: String
    public var distribution: Distribution
    public var architecture: Architecture
    /// Package sources; empty means the build host's apt sources.
    public var aptSources: [AptSource]
    /// Snapshot services' URL templates (``SnapshotArchive``), tried for a locked package the
    /// sources no longer serve; `nil` in the canonical form (they do not change the image).
    public var snapshotArchives: [String]?
    /// The lab's shared store (``SharedStore``); `nil` in the canonical form.
    public var sharedStore: SharedStore?
    public var kernelPackage: String
    public var kernelArguments: [String]
    public var firmware: Firmware
    /// What the build makes; `nil` for a disk image, so systems declared before formats
    /// existed keep their digests.
    public var format: ImageFormat?
    public var disk: DiskLayout
    public var timezone: String
    public var locales: [String]
    public var keyboard: Keyboard
    public var network: NetworkConfiguration
    /// Every package the system asks for: declared ones and those its services need.
    public var packages: [String]
    public var users: [User]
    public var groups: [Group]
    public var files: [File]
    public var units: [SystemdUnit]
    public var mounts: [Mount]
    public var services: [ServiceRecord]
    /// What `imagec test` verifies on the booted image, sorted by name; `nil` in the canonical
    /// form: checks do not change the image, so they are not part of its digest.
    public var checks: [Check]?
    /// Where the system is deployed; `nil` in the canonical form (it does not change the image).
    public var deployment: Deployment?
    /// Where each part was declared, keyed like `user:alice` or `file:/etc/motd`;
    /// `nil` in the canonical form.
    public var sources: [String: SourceLocation]?
    /// The inheritance chain's package stages, from the first template to the system; `nil` in
    /// the canonical form (the packages are in ``packages``: the stages say only which template
    /// asks for which, for the package layers).
    public var packageStages: [PackageStage]? = nil

    /// This model without its source locations: what the canonical JSON and the digest cover.
    public var canonical: SystemModel {
        var model = self
        model.sources = nil
        model.checks = nil
        model.deployment = nil
        model.snapshotArchives = nil
        model.sharedStore = nil
        model.packageStages = nil
        return model
    }

    /// What every system installs, whatever its definition: apt, systemd, udev, the initramfs
    /// tools, e2fsprogs and the kernel. The bottom package layer, shared by every system with the same kernel.
    public var basePackages: [String] {
        ["apt", "systemd-sysv", "udev", "initramfs-tools", "e2fsprogs", kernelPackage].sorted()
    }

    /// The packages the system asks for: what it declares and its services need, plus what
    /// every image needs to boot and be managed (apt, systemd, udev, an initramfs, the kernel,
    /// and the tools its locales, keyboard and file systems need). The archive's Essential and
    /// Priority-required packages come on top when the lock is resolved.
    public var requestedPackages: [String] {
        var names = Set(basePackages)
        names.formUnion(packages)
        if locales.contains(where: { !["C", "C.UTF-8", "POSIX"].contains($0) }) { names.insert("locales") }
        if keyboard.layout != "us" || keyboard.variant != nil { names.formUnion(["keyboard-configuration", "console-setup"]) }
        let fileSystems = [disk.rootFileSystem] + disk.partitions.map(\.fileSystem) + disk.persistentVolumes.map(\.fileSystem)
        if fileSystems.contains(.xfs) { names.insert("xfsprogs") }
        if fileSystems.contains(.btrfs) { names.insert("btrfs-progs") }
        if fileSystems.contains(.vfat) { names.insert("dosfstools") }
        return names.sorted()
    }

    /// Where the part with the given key was declared, or else where the system was.
    public func location(of key: String) -> SourceLocation? {
        sources?[key] ?? sources?["system"]
    }
}
