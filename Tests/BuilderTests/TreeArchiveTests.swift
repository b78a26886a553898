import CArchive
import Foundation
@testable import SharedStore
import Testing

/// Package layers' trees as they travel through the shared store: the same bytes for the same
/// tree, and every kind of file back as it was.
struct TreeArchiveTests {
    @Test func aTreeComesBackAsItWasFromTheSameBytes() throws {
        let folder = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tree = folder.appendingPathComponent("tree")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("usr/bin"), withIntermediateDirectories: true)
        try Data("#!/bin/sh\necho ping\n".utf8).write(to: tree.appendingPathComponent("usr/bin/ping"))
        chmod(tree.appendingPathComponent("usr/bin/ping").path, 0o4755)
        // cap_net_raw+ep, as iputils-ping's postinst sets it (vfs_cap_data, revision 2).
        let raw: [UInt8] = [1, 0, 0, 2, 0, 0x20, 0, 0] + [UInt8](repeating: 0, count: 12)
        #expect(setxattr(tree.appendingPathComponent("usr/bin/ping").path, "security.capability", raw, raw.count, 0) == 0)
        #expect(link(tree.appendingPathComponent("usr/bin/ping").path, tree.appendingPathComponent("usr/bin/ping6").path) == 0)
        try FileManager.default.createSymbolicLink(atPath: tree.appendingPathComponent("bin").path, withDestinationPath: "usr/bin")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        chmod(tree.appendingPathComponent("tmp").path, 0o1777)
        #expect(mkfifo(tree.appendingPathComponent("tmp/fifo").path, 0o600) == 0)
        #expect(lchown(tree.appendingPathComponent("tmp/fifo").path, 101, 102) == 0)
        try Data().write(to: tree.appendingPathComponent("empty"))
        // Every time as the package layer has them: the lock's date.
        _ = try LocalArchive.run("/bin/sh", ["-c", #"find "$1" -print0 | xargs -0 touch -h -d @1700000000"#, "sh", tree.path])

        let first = folder.appendingPathComponent("one.tar"), second = folder.appendingPathComponent("two.tar")
        try TreeArchive.write(tree, to: first)
        try TreeArchive.write(tree, to: second)
        #expect(try Data(contentsOf: first) == Data(contentsOf: second))

        let copy = folder.appendingPathComponent("copy")
        try TreeArchive.extract(first, into: copy)
        for path in ["usr", "usr/bin", "usr/bin/ping", "usr/bin/ping6", "bin", "tmp", "tmp/fifo", "empty"] {
            var original = stat(), extracted = stat()
            #expect(lstat(tree.appendingPathComponent(path).path, &original) == 0 && lstat(copy.appendingPathComponent(path).path, &extracted) == 0)
            #expect(original.st_mode == extracted.st_mode && original.st_uid == extracted.st_uid && original.st_gid == extracted.st_gid, "\(path)")
            #expect(original.st_size == extracted.st_size && original.st_mtim.tv_sec == extracted.st_mtim.tv_sec, "\(path)")
        }
        #expect(try Data(contentsOf: copy.appendingPathComponent("usr/bin/ping")) == Data(contentsOf: tree.appendingPathComponent("usr/bin/ping")))
        var ping = stat(), ping6 = stat()
        lstat(copy.appendingPathComponent("usr/bin/ping").path, &ping)
        lstat(copy.appendingPathComponent("usr/bin/ping6").path, &ping6)
        #expect(ping.st_ino == ping6.st_ino && ping.st_nlink == 2)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: copy.appendingPathComponent("bin").path) == "usr/bin")
        var capability = [UInt8](repeating: 0, count: 20)
        #expect(getxattr(copy.appendingPathComponent("usr/bin/ping").path, "security.capability", &capability, 20) == 20)
        #expect(capability == raw)
    }
}
