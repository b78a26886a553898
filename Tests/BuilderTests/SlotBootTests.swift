import Crypto
import Foundation
import ImagecCore
import Testing

/// The pieces of a two-slot disk that need no machine: GRUB's environment block, as GRUB's own
/// tool reads and writes it, and the block index of a sparse image.
struct SlotBootTests {
    @Test func theEnvironmentBlockIsGRUBs() throws {
        let folder = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("grubenv")
        var environment = SlotBoot.Environment(["default_slot": "a"])
        environment["trial_slot"] = "b"
        environment["trial_left"] = "1"
        try #require(environment.block).write(to: file)
        #expect(try ImageBuilderTestSupport.output("/usr/bin/grub-editenv", [file.path, "list"])
            == "default_slot=a\ntrial_left=1\ntrial_slot=b\n")

        // What GRUB's save_env leaves after a failed trial, read back.
        try ImageBuilderTestSupport.run("/usr/bin/grub-editenv", [file.path, "set", "failed_slot=b", "trial_slot="])
        let read = try #require(SlotBoot.Environment(block: try Data(contentsOf: file)))
        #expect(read["failed_slot"] == "b" && read["trial_slot"] == nil && read["default_slot"] == "a")
        #expect(SlotBoot.Environment(block: Data(count: 1024)) == nil)
        #expect(SlotBoot.Environment(["x": String(repeating: "y", count: 1000)]).block == nil)
    }

    @Test func theChooserBootsTheTrialOnceThenTheDefault() {
        let chooser = SlotBoot.chooser(partitions: (a: 4, b: 5))
        #expect(chooser.contains(#"if [ "$slot" = "b" ]; then set root=($disk,gpt5); else set root=($disk,gpt4); fi"#))
        #expect(chooser.contains("save_env --file ($root)/grub/grubenv trial_left\n"))
        #expect(chooser.contains("save_env --file ($root)/grub/grubenv failed_slot trial_slot\n"))
    }

    @Test func theBlockIndexHashesEveryBlockAndSkipsHoles() throws {
        let folder = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let image = folder.appendingPathComponent("image.raw")
        let block = 65536
        // 1 MiB of head, then the part: data, a hole, zeros written out, data, a short last block.
        var bytes = Data(count: (1 << 20) + 5 * block + 1000)
        for offset in [(1 << 20), (1 << 20) + 3 * block, (1 << 20) + 5 * block] {
            for index in offset..<min(offset + 700, bytes.count) { bytes[index] = UInt8(truncatingIfNeeded: index) }
        }
        try bytes.write(to: image)
        try ImageBuilderTestSupport.run("/usr/bin/fallocate", ["--dig-holes", image.path])
        let index = try BlockIndex.make(of: image, offset: 1 << 20, length: 5 * block + 1000)
        let part = bytes[(1 << 20)...]
        func sha(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }
        // The part's digest: that of a file holding just the part.
        let alone = folder.appendingPathComponent("part.raw")
        try Data(part).write(to: alone)
        #expect(index.digest == (try DiskDigestTests.referenceDigest(of: alone)))
        #expect(index.blocks.count == 6)
        #expect(index.blocks.map { $0 == nil } == [false, true, true, false, true, false])
        #expect(index.blocks[3] == sha(Data(part.dropFirst(3 * block).prefix(block))))
        #expect(index.blocks[5] == sha(Data(part.suffix(1000))))
        #expect(index.dataBytes == 2 * block + 1000)
        #expect(throws: (any Error).self) { try BlockIndex.make(of: image, offset: 1 << 20, length: 6 * block) }
    }
}
