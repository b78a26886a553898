/// A file system type for the root, extra partitions and persistent volumes.
public enum FileSystemType: String, Codable, Hashable, Sendable, CaseIterable {
    case ext4
    case xfs
    case btrfs
    case vfat
    case swap
}
