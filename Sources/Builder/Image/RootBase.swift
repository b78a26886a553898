import Foundation
import ImageDSL

/// The package layer made ready for fast configuration, as a store entry of its own: the
/// layer's tree unpacked (`tree/`) and a disk holding only an ext4 file system of that tree,
/// at the root partition's size and offset (`disk.raw`). A build hard-links the tree, configures the copy and replays only what
/// configuration changed onto a copy of the image (`TreeDelta`), so changing a system's
/// configuration costs seconds, not a file system made from scratch.
struct RootBase {
    /// Changes whenever the recipe below changes.
    static let recipeVersion = 2

    let layer: URL
    let size: ByteCount
    /// Where the root partition starts on the disk, in bytes.
    let offset: Int
    let sourceDateEpoch: Int

    var entryName: String {
        let identity = "imagec root base \(Self.recipeVersion)\n\(layer.lastPathComponent)\n\(size.bytes) at \(offset)\n"
        return "\(CanonicalJSON.sha256(Data(identity.utf8)))-rootbase"
    }

    /// The file system's UUID before the build sets its own, and its directory hash seed.
    var uuid: String { ImageIdentifiers(digest: entryName).fileSystemUUID("root") }

    /// Makes the entry's files in `folder`. `tooLarge` reports a tree that does not fit.
    func make(in folder: URL, scratch: URL, tools: Tools, tooLarge: (UInt64) -> Error) throws {
        let tree = folder.appendingPathComponent("tree")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: false)
        try tools.run("/usr/bin/tar", ["-C", tree.path, "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf",
                                       layer.appendingPathComponent("rootfs.tar").path])
        // No file newer than the lock's date: a shared file that is, was edited through a hard link.
        try tools.run("/bin/sh", ["-c", #"find "$1" -newermt "@$2" -print0 | xargs -0r touch -h -d "@$2""#,
                                  "sh", tree.path, String(sourceDateEpoch)])
        let used = try tools.output("/usr/bin/du", ["-s", "-B1", "--apparent-size", tree.path])
            .split(separator: "\t").first.flatMap { UInt64($0) } ?? 0
        // Room for metadata, the journal and the configuration: about a tenth more, and 64 MiB.
        let needed = used + used / 10 + (64 << 20)
        guard needed <= size.bytes else { throw tooLarge(needed) }
        try Ext4(tools: tools, scratch: scratch, time: sourceDateEpoch)
            .make(folder.appendingPathComponent("disk.raw"), offset: offset, label: "root", uuid: uuid, size: size, from: tree)
    }
}
