/// A volume that holds data across reinstalls: a second disk (the two-disk VM template)
/// or a partition of the machine (`/home` on a bigmem). Deploying a new image never
/// detaches, reformats or replaces it.
///
/// ```swift
/// PersistentVolume("home", mountPoint: "/home", size: .tebibytes(2), device: "/dev/sdb")
/// PersistentVolume("data", mountPoint: "/data", size: .gibibytes(100), snapshotBeforeDeploy: true)
/// ```
public struct PersistentVolume: Codable, Hashable, Sendable, DiskItem {
    /// The volume's name, also its file system label.
    public var name: String
    public var mountPoint: String
    public var size: ByteCount
    public var fileSystem: FileSystemType
    /// The device on the machine; `nil` means a separate virtual disk found by its label.
    public var device: String?
    /// Take a snapshot of the volume before each deployment swaps the root disk.
    public var snapshotBeforeDeploy: Bool
    public var mountOptions: [String]

    public init(
        _ name: String, mountPoint: String, size: ByteCount, fileSystem: FileSystemType = .ext4,
        device: String? = nil, snapshotBeforeDeploy: Bool = false, mountOptions: [String] = ["defaults"]
    ) {
        self.name = name
        self.mountPoint = mountPoint
        self.size = size
        self.fileSystem = fileSystem
        self.device = device
        self.snapshotBeforeDeploy = snapshotBeforeDeploy
        self.mountOptions = mountOptions
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.upsert(self, into: \.disk.persistentVolumes, key: "volume:\(name)", at: location) { $0.name == name }
    }
}
