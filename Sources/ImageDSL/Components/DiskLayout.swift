/// How a system's disks are laid out: the root file system, extra partitions on the
/// image's disk, and persistent volumes that a reinstall never touches.
public struct DiskLayout: Codable, Hashable, Sendable {
    /// Size of the root file system in the image (it grows to fill the disk on first boot).
    public var rootSize = ByteCount.gibibytes(4)
    /// The smallest root size the system works with, declared by a template.
    public var minimumRootSize = ByteCount.gibibytes(2)
    public var rootFileSystem = FileSystemType.ext4
    /// Extra partitions on the image's disk, rebuilt with every image.
    public var partitions: [Partition] = []
    /// Volumes outside the image, kept across reinstalls.
    public var persistentVolumes: [PersistentVolume] = []

    public init() {}
}
