import Foundation
@testable import ImageBuild
@testable import ImagecCore
import ImageDSL
import Testing

/// Replaying configuration onto an image of the original tree gives the configured tree,
/// byte for byte the same every time.
struct TreeDeltaTests {
    static let epoch = 1_700_000_000

    @Test func theReplayedImageHoldsTheConfiguredTree() throws {
        let folder = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = folder.appendingPathComponent("original")
        try makeTree(original, [
            "etc/hostname": "old\n", "etc/passwd": "root:x:0:0::/root:/bin/sh\n", "etc/gone": "x",
            "usr/share/doc/a/copyright": "text", "usr/share/doc/b/copyright": "text", "usr/bin/tool": "#!/bin/sh\n",
        ])
        try FileManager.default.createSymbolicLink(atPath: original.path + "/etc/localtime", withDestinationPath: "/usr/share/zoneinfo/UTC")
        let tools = Tools(environment: DiskAssembler.environment(Self.epoch), scratch: folder)
        try tools.run("/bin/sh", ["-c", #"find "$1" -print0 | xargs -0 touch -h -d "@$2""#, "sh", original.path, String(Self.epoch)])
        let ext4 = Ext4(tools: tools, scratch: folder, time: Self.epoch)
        let base = folder.appendingPathComponent("base.img")
        try ext4.make(base, label: "root", uuid: "11111111-2222-4333-8444-555555555555", size: ByteCount(bytes: 64 << 20), from: original)

        // Configure the way the builder does: in-process writes into the folder of changes,
        // tools run on the overlay (removals become whiteouts, a mode change a copy).
        let scratch = folder.appendingPathComponent("configuration")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: false)
        let tree = try ConfiguredTree.overlay(on: original, in: scratch)
        try "new\n".write(to: try tree.writable("/etc/hostname"), atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(at: try tree.writable("/etc/localtime"), withDestinationURL: URL(fileURLWithPath: "/usr/share/zoneinfo/Europe/Paris"))
        try "ssh-ed25519 AAAA yann\n".write(to: try tree.writable("/etc/ssh/authorized_keys/yann"), atomically: false, encoding: .utf8)
        try "q".write(to: try tree.writable("/etc/with \"quote\" and space"), atomically: false, encoding: .utf8)
        chmod(tree.upper.path + "/etc/ssh/authorized_keys/yann", 0o600)
        chown(tree.upper.path + "/etc/ssh/authorized_keys/yann", 1000, 1000)
        chmod(tree.upper.path + "/etc/ssh", 0o700)
        let edit = try tree.command("/bin/sh", ["-c", #"rm "$1/etc/gone" && rm -r "$1/usr/share/doc/b" && chmod 750 "$1/usr/share/doc/a""#,
                                                "sh", tree.root.path]).run(timeout: 30, outputFile: folder.appendingPathComponent("edit.txt"))
        #expect(edit.status == 0, "\(edit.output)")
        // What the overlay shows, copied out: what the image must hold.
        let configured = folder.appendingPathComponent("configured")
        let copied = try tree.command("/bin/cp", ["-a", tree.root.path, configured.path]).run(timeout: 30, outputFile: folder.appendingPathComponent("copy.txt"))
        #expect(copied.status == 0, "\(copied.output)")
        #expect(try listing(original).contains { $0.hasPrefix("etc/gone ") }, "the layer's tree is left as it was")

        var delta = TreeDelta(original: original, changes: tree.upper, time: Self.epoch)
        try delta.compute()
        #expect(delta.changedEntries == 11)  // hostname ×2, gone, b and its file, localtime ×2, ssh, its two entries, quote
        #expect(delta.script.contains("sif \"/usr/share/doc/a\" mode 040750"))

        // The root base's disk (the file system at its offset) and its block list.
        let baseDisk = folder.appendingPathComponent("base-disk.raw")
        try tools.truncate(baseDisk, to: 65 << 20)
        try SparseFile.copy(base, into: baseDisk, at: 1 << 20)
        let known = try DiskDigest.blockList(of: baseDisk)

        // Replayed twice onto copies at an offset inside a larger file: the same bytes each time.
        var digests: [String] = []
        for attempt in 0..<2 {
            let disk = folder.appendingPathComponent("disk\(attempt).raw")
            try tools.truncate(disk, to: 80 << 20)
            try SparseFile.copy(base, into: disk, at: 1 << 20)
            let changed = try ext4.apply(delta, to: disk, offset: 1 << 20, uuid: "99999999-2222-4333-8444-555555555555")
            digests.append(try SparseFile.sha256(of: disk))
            // The digest from the base's block list and the ranges the tools wrote is the
            // digest of every byte; without those ranges it is not.
            let root = (1 << 20)..<(65 << 20)
            #expect(!changed.isEmpty)
            #expect(try DiskDigest.of(disk, sameAs: known, in: root, except: changed) == DiskDigest.of(disk))
            #expect(try DiskDigest.of(disk, sameAs: known, in: root, except: []) != DiskDigest.of(disk))
            if attempt == 0 {
                let dump = folder.appendingPathComponent("dump")
                try FileManager.default.createDirectory(at: dump, withIntermediateDirectories: true)
                try tools.run("/usr/sbin/debugfs", ["-R", "rdump / \(dump.path)", "\(disk.path)?offset=\(1 << 20)"])
                let (dumped, expected) = (try listing(dump), try listing(configured))
                #expect(dumped == expected, "\(Set(dumped).symmetricDifference(expected).sorted())")
                let label = try tools.output("/usr/sbin/dumpe2fs", ["-h", "\(disk.path)?offset=\(1 << 20)"])
                #expect(label.contains("99999999-2222-4333-8444-555555555555"))
                let times = try tools.output("/usr/sbin/debugfs", ["-R", "stat /etc/ssh/authorized_keys/yann", "\(disk.path)?offset=\(1 << 20)"])
                #expect(times.split(separator: "\n").filter { $0.contains("time:") }.allSatisfy { $0.contains("0x6553f100") })
            }
        }
        #expect(digests[0] == digests[1])
    }

    /// A tool that edits a layer's file in place edits a copy of it: the layer keeps its
    /// bytes, and the image gets the edited file.
    @Test func aFileEditedInPlaceLeavesTheLayerAsItWas() throws {
        let folder = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = folder.appendingPathComponent("original")
        try makeTree(original, ["etc/shadow": "root:*:1::::::\n"])
        let scratch = folder.appendingPathComponent("configuration")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: false)
        let tree = try ConfiguredTree.overlay(on: original, in: scratch)
        let edit = try tree.command("/bin/sh", ["-c", #"echo 'edited' >> "$1/etc/shadow""#, "sh", tree.root.path])
            .run(timeout: 30, outputFile: folder.appendingPathComponent("edit.txt"))
        #expect(edit.status == 0, "\(edit.output)")
        #expect(try String(contentsOf: original.appendingPathComponent("etc/shadow"), encoding: .utf8) == "root:*:1::::::\n")
        #expect(try String(contentsOf: tree.existing("/etc/shadow")!, encoding: .utf8) == "root:*:1::::::\nedited\n")
        var delta = TreeDelta(original: original, changes: tree.upper, time: Self.epoch)
        try delta.compute()
        #expect(delta.script.hasPrefix("rm \"/etc/shadow\"\nwrite \"\(tree.upper.path)/etc/shadow\" \"/etc/shadow\"\n"), "\(delta.script)")
    }

    private func makeTree(_ root: URL, _ files: [String: String]) throws {
        for (path, contents) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: url, atomically: false, encoding: .utf8)
        }
    }

    /// Every entry with its type, mode, owner and contents (or link target).
    private func listing(_ root: URL) throws -> [String] {
        let paths = try FileManager.default.subpathsOfDirectory(atPath: root.path).filter { !$0.hasPrefix("lost+found") }.sorted()
        return try paths.map { path in
            var info = stat()
            lstat(root.path + "/" + path, &info)
            let type = info.st_mode & S_IFMT
            let contents = type == S_IFREG ? try String(contentsOfFile: root.path + "/" + path, encoding: .utf8)
                : type == S_IFLNK ? try FileManager.default.destinationOfSymbolicLink(atPath: root.path + "/" + path) : ""
            return "\(path) \(String(info.st_mode, radix: 8)) \(info.st_uid):\(info.st_gid) \(contents)"
        }
    }
}
