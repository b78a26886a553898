import Foundation
import ImagecCore
import ImageDSL

/// The package layer made ready for fast configuration, as a store entry of its own: a disk
/// holding only an ext4 file system of the layer's tree and its initramfs, at the root
/// partition's size and offset (`disk.raw`). A build hard-links the layer's tree, configures the copy and replays
/// only what configuration changed onto a copy of this disk (`TreeDelta`), so changing a
/// system's configuration costs seconds, not a file system made from scratch.
struct RootBase {
    /// Changes whenever the recipe below changes.
    static let recipeVersion = 5  // 5: the lifetime writes reset

    /// The package layer's entry.
    let layer: URL
    /// The name of the initramfs entry written into `/boot` (`InitramfsEntry`); none for a
    /// system that is itself an initramfs.
    let initramfs: String?
    let size: ByteCount
    /// Where the root partition starts on the disk, in bytes.
    let offset: Int
    let sourceDateEpoch: Int

    var entryName: String {
        let identity = "imagec root base \(Self.recipeVersion)\n\(layer.lastPathComponent)\n\(initramfs ?? "no initramfs")\n"
            + "\(size.bytes) at \(offset)\n"
        return "\(CanonicalJSON.sha256(Data(identity.utf8)))-rootbase"
    }

    /// The file system's UUID before the build sets its own, and its directory hash seed.
    var uuid: String { ImageIdentifiers(digest: entryName).fileSystemUUID("root") }

    /// Makes the entry's files in `folder`, with the initramfs entry `initramfs` (the one named
    /// above). `tooLarge` reports a tree that does not fit.
    func make(in folder: URL, initramfs: URL?, scratch: URL, tools: Tools, tooLarge: (UInt64) -> Error) throws {
        let tree = layer.appendingPathComponent("tree")
        let images = try initramfs.map { try InitramfsEntry.images(in: $0) } ?? []
        let used = try tools.output("/usr/bin/du", ["-s", "-c", "-B1", "--apparent-size", tree.path] + images.map(\.path))
            .split(separator: "\n").last?.split(separator: "\t").first.flatMap { UInt64($0) } ?? 0
        // Room for metadata, the journal and the configuration: about a tenth more, and 64 MiB.
        let needed = used + used / 10 + (64 << 20)
        guard needed <= size.bytes else { throw tooLarge(needed) }
        let disk = folder.appendingPathComponent("disk.raw")
        try Ext4(tools: tools, scratch: scratch, time: sourceDateEpoch)
            .make(disk, offset: offset, label: "root", uuid: uuid, size: size, from: tree,
                  adding: images.map { ($0, "/boot/" + $0.lastPathComponent) })
        try Data(DiskDigest.blockList(of: disk)).write(to: folder.appendingPathComponent(Self.blockListFile))
    }

    /// The SHA-256 of each block of `disk.raw` (`DiskDigest.blockList(of:)`): an image made
    /// from the base hashes only the blocks configuration wrote, and those outside the root.
    static let blockListFile = "disk.raw.blocks"

    /// The block list of the root base entry `entry`, if it has one (entries made before
    /// 2026-12-08 have none).
    static func blockList(in entry: URL) -> [UInt8]? {
        FileManager.default.contents(atPath: entry.appendingPathComponent(blockListFile).path).map { [UInt8]($0) }
    }
}
