import Foundation
@testable import ImageBuild
@testable import ImagecCore
import ImageDSL
import Testing

/// A file system made from a tree depends on what the tree holds, not on how its files lie on
/// the disk they were copied from: a package layer made in memory and copied to the store keeps
/// runs of zeros as holes, one made on the store's disk does not.
struct Ext4Tests {
    static let epoch = 1_700_000_000

    @Test func holesInTheSourceFilesChangeNoByte() throws {
        let folder = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tools = Tools(environment: DiskAssembler.environment(Self.epoch), scratch: folder)
        // Data with runs of four zero blocks between, as in libmvec.so.1, which showed it:
        // mke2fs counts 48 KiB more written when the runs are holes.
        var content = Data()
        for blocks in [109, 56, 33] {
            content += Data((0..<blocks * 4096).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) | 1 })
            content += Data(count: 4 * 4096)
        }
        content += Data(repeating: 7, count: 39 * 4096 - 1000)
        let dense = folder.appendingPathComponent("dense"), sparse = folder.appendingPathComponent("sparse")
        for tree in [dense, sparse] {
            try FileManager.default.createDirectory(at: tree.appendingPathComponent("usr/lib"), withIntermediateDirectories: true)
        }
        try content.write(to: dense.appendingPathComponent("usr/lib/library.so"))
        try tools.run("/bin/cp", ["--sparse=always", dense.path + "/usr/lib/library.so", sparse.path + "/usr/lib/library.so"])
        func allocated(_ tree: URL) -> Int {
            var info = stat()
            return stat(tree.path + "/usr/lib/library.so", &info) == 0 ? Int(info.st_blocks) : -1
        }
        #expect(allocated(sparse) < allocated(dense), "the copy should have holes")
        let ext4 = Ext4(tools: tools, scratch: folder, time: Self.epoch)
        var digests: [String] = []
        for tree in [dense, sparse] {
            try tools.run("/bin/sh", ["-c", #"find "$1" -print0 | xargs -0 touch -h -d "@$2""#, "sh", tree.path, String(Self.epoch)])
            let image = folder.appendingPathComponent("\(tree.lastPathComponent).img")
            try ext4.make(image, offset: 1 << 20, label: "root", uuid: "11111111-2222-4333-8444-555555555555",
                          size: ByteCount(bytes: 64 << 20), from: tree)
            digests.append(try SparseFile.sha256(of: image))
        }
        #expect(digests[0] == digests[1])
    }
}
