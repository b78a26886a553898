/// Declares the disk layout: root size and file system, extra partitions, persistent volumes.
///
/// ```swift
/// Disk(rootSize: .gibibytes(20)) {
///     Partition("scratch", mountPoint: "/scratch", size: .gibibytes(8), fileSystem: .xfs)
///     PersistentVolume("home", mountPoint: "/home", size: .tebibytes(2), device: "/dev/sdb")
/// }
/// ```
///
/// Only the values given change; a partition or volume replaces an inherited one with the
/// same name.
public struct Disk: SystemComponent {
    public var rootSize: ByteCount?
    public var minimumRootSize: ByteCount?
    public var rootFileSystem: FileSystemType?
    public var rootSlots: DiskLayout.RootSlots?
    let declarations: [DiskBuilder.Declaration]

    public init(
        rootSize: ByteCount? = nil, minimumRootSize: ByteCount? = nil, rootFileSystem: FileSystemType? = nil,
        rootSlots: DiskLayout.RootSlots? = nil, @DiskBuilder _ content: () -> [DiskBuilder.Declaration] = { [] }
    ) {
        self.rootSize = rootSize
        self.minimumRootSize = minimumRootSize
        self.rootFileSystem = rootFileSystem
        self.rootSlots = rootSlots
        self.declarations = content()
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        if let rootSize { system.set(\.disk.rootSize, to: rootSize, key: "rootSize", at: location) }
        if let minimumRootSize {
            system.set(\.disk.minimumRootSize, to: minimumRootSize, key: "minimumRootSize", at: location)
        }
        if let rootFileSystem {
            system.set(\.disk.rootFileSystem, to: rootFileSystem, key: "rootFileSystem", at: location)
        }
        if let rootSlots { system.set(\.disk.rootSlots, to: rootSlots, key: "rootSlots", at: location) }
        for declaration in declarations {
            declaration.item.apply(to: &system, at: declaration.location)
        }
    }
}
