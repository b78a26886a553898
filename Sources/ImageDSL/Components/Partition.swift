/// An extra partition on the image's own disk, recreated with every image.
public struct Partition: Codable, Hashable, Sendable, DiskItem {
    /// The partition's name, used as its GPT and file system label.
    public var name: String
    public var size: ByteCount
    public var fileSystem: FileSystemType
    /// Where it is mounted; `nil` for swap or an unmounted partition.
    public var mountPoint: String?

    public init(_ name: String, mountPoint: String? = nil, size: ByteCount, fileSystem: FileSystemType = .ext4) {
        self.name = name
        self.size = size
        self.fileSystem = fileSystem
        self.mountPoint = mountPoint
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.upsert(self, into: \.disk.partitions, key: "partition:\(name)", at: location) { $0.name == name }
    }
}
