/// How a system's disks are laid out: the root file system, extra partitions on the
/// image's disk, and persistent volumes that a reinstall never touches.
public struct DiskLayout: Codable, Hashable, Sendable {
    /// How many root file systems the disk holds.
    public enum RootSlots: String, Codable, Hashable, Sendable {
        /// One root, which grows to fill the disk on first boot (a VM's disk, swapped whole).
        case one
        /// Two roots of `rootSize`, A and B, after the declared partitions: a deploy writes the
        /// slot that is not running, and the running one stays the rollback target. What
        /// follows the slots on the disk is never touched. For physical machines.
        case ab
    }

    /// Size of the root file system in the image (with one slot, it grows to fill the disk on
    /// first boot).
    public var rootSize = ByteCount.gibibytes(4)
    /// The smallest root size the system works with, declared by a template.
    public var minimumRootSize = ByteCount.gibibytes(2)
    public var rootFileSystem = FileSystemType.ext4
    public var rootSlots = RootSlots.one
    /// Extra partitions on the image's disk, rebuilt with every image.
    public var partitions: [Partition] = []
    /// Volumes outside the image, kept across reinstalls.
    public var persistentVolumes: [PersistentVolume] = []

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case rootSize, minimumRootSize, rootFileSystem, rootSlots, partitions, persistentVolumes
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rootSize = try container.decode(ByteCount.self, forKey: .rootSize)
        minimumRootSize = try container.decode(ByteCount.self, forKey: .minimumRootSize)
        rootFileSystem = try container.decode(FileSystemType.self, forKey: .rootFileSystem)
        rootSlots = try container.decodeIfPresent(RootSlots.self, forKey: .rootSlots) ?? .one
        partitions = try container.decode([Partition].self, forKey: .partitions)
        persistentVolumes = try container.decode([PersistentVolume].self, forKey: .persistentVolumes)
    }

    /// One slot is left out, so the systems declared before slots existed keep their digests.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rootSize, forKey: .rootSize)
        try container.encode(minimumRootSize, forKey: .minimumRootSize)
        try container.encode(rootFileSystem, forKey: .rootFileSystem)
        if rootSlots != .one { try container.encode(rootSlots, forKey: .rootSlots) }
        try container.encode(partitions, forKey: .partitions)
        try container.encode(persistentVolumes, forKey: .persistentVolumes)
    }
}
