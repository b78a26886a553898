

/// The names a host's root disk has in a pool: the disk the machine boots from, the
/// candidate a deploy prepares beside it, and the generations swaps retire it as.
public struct DiskNames: Hashable, Sendable {
    /// The root disk's name, which the machine's configuration names: `vm-127-disk-0`.
    public var disk: String

    public init(disk: String) {
        self.disk = disk
    }

    /// The host's candidate root disk, beside the disk it will replace: `<disk>_candidate`.
    public var candidate: String { "\(disk)_candidate" }

    /// The name the disk gets when a swap retires it: after the swap that put its image
    /// there (`<disk>_d<swap>`), or `<disk>_original` for a disk imagec never put there.
    public func retired(installedBy swap: Int64?) -> String {
        swap.map { "\(disk)_d\($0)" } ?? "\(disk)_original"
    }

    /// Whether `name` is one of the disk's retired generations.
    public func isGeneration(_ name: String) -> Bool {
        name == "\(disk)_original" || (name.hasPrefix("\(disk)_d") && Int64(name.dropFirst(disk.count + 2)) != nil)
    }

    /// The snapshot persistent volumes get before swap `swap`: `imagec-swap-<swap>`.
    public static func volumeSnapshot(before swap: Int64) -> String { "imagec-swap-\(swap)" }
}
