import BootServer
import Foundation
import ImagecCore
import ImageDSL
import Testing

/// The installer agent (`NetworkInstaller.agent`, as the installer's image holds it) against `imagec serve` on
/// 127.0.0.1, writing a disk file as it writes a machine's disk: a first install on an empty
/// disk, a redeploy after a one-file change that fetches almost nothing, a corrupted image
/// refused with the default slot untouched, and a disk laid out otherwise left alone. The
/// images are small two-slot disks made here with the same tools as imagec's (sfdisk, mtools,
/// mke2fs), so the test takes seconds.
@Suite(.serialized)
struct InstallerAgentTests {
    static let sector = 512
    /// bios, esp, scratch, root-a, root-b: start and length in sectors.
    static let layout: [(name: String, start: Int, sectors: Int, type: String)] = [
        ("bios", 2048, 2048, "21686148-6449-6E6F-744E-656564454649"),
        ("esp", 4096, 131_072, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"),
        ("scratch", 135_168, 16384, "0FC63DAF-8483-4772-8E79-3D69D8477DE4"),
        ("root-a", 151_552, 131_072, "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"),
        ("root-b", 282_624, 131_072, "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"),
    ]
    static func start(_ name: String) -> Int { layout.first { $0.name == name }!.start * sector }

    final class Bench: @unchecked Sendable {
        let folder: URL
        let state: BootState
        let server: ServeProcess
        var port: Int { server.port }
        let identity = HostFiles(files: [
            ("/etc/ssh/ssh_host_ed25519_key", "PRIVATE KEY OF bigmem9\n", 0o600),
            ("/etc/machine-id", "0123456789abcdef0123456789abcdef\n", 0o444),
        ])

        init() async throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-agent-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            state = BootState(directory: folder.appendingPathComponent("state"))
            server = try ServeProcess(state: state)
        }

        deinit {
            server.stop()
            try? FileManager.default.removeItem(at: folder)
        }

        /// A two-slot image whose root holds a kernel, an initramfs and 16 MiB of files, and
        /// `motd`; its store entry with its slot-image.json.
        func image(_ name: String, motd: String) throws -> URL {
            let entry = folder.appendingPathComponent("store/\(name)")
            let work = folder.appendingPathComponent("work-\(name)")
            let tree = work.appendingPathComponent("tree")
            for path in ["boot/grub", "etc/ssh", "usr/share/data"] {
                try FileManager.default.createDirectory(at: tree.appendingPathComponent(path), withIntermediateDirectories: true)
            }
            try FileManager.default.createDirectory(at: entry, withIntermediateDirectories: true)
            func bytes(_ count: Int, _ seed: Int) -> Data {
                var state = UInt64(seed) &* 6_364_136_223_846_793_005 &+ 1
                return Data((0..<count).map { _ in
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return UInt8(truncatingIfNeeded: state >> 33)
                })
            }
            try bytes(1 << 20, 1).write(to: tree.appendingPathComponent("boot/vmlinuz-6.1.0-test"))
            try bytes(2 << 20, 2).write(to: tree.appendingPathComponent("boot/initrd.img-6.1.0-test"))
            for number in 1...8 { try bytes(2 << 20, 10 + number).write(to: tree.appendingPathComponent("usr/share/data/file\(number)")) }
            try FileManager.default.createSymbolicLink(atPath: tree.appendingPathComponent("vmlinuz").path, withDestinationPath: "boot/vmlinuz-6.1.0-test")
            try FileManager.default.createSymbolicLink(atPath: tree.appendingPathComponent("initrd.img").path, withDestinationPath: "boot/initrd.img-6.1.0-test")
            try "menuentry 'bigmem9' {\n  linux /vmlinuz root=UUID=11111111-2222-4333-8444-555555555555 ro console=ttyS0\n  initrd /initrd.img\n}\n"
                .write(to: tree.appendingPathComponent("boot/grub/grub.cfg"), atomically: false, encoding: .utf8)
            try motd.write(to: tree.appendingPathComponent("etc/motd"), atomically: false, encoding: .utf8)

            let disk = entry.appendingPathComponent("disk.raw")
            try shell("""
                export E2FSPROGS_FAKE_TIME=1700000000 SOURCE_DATE_EPOCH=1700000000
                truncate -s \((InstallerAgentTests.layout.last!.start + InstallerAgentTests.layout.last!.sectors + 2048) * 512) '\(disk.path)'
                sfdisk -q '\(disk.path)' <<EOF
                label: gpt
                unit: sectors
                first-lba: 2048
                \(InstallerAgentTests.layout.map { "start=\($0.start), size=\($0.sectors), type=\($0.type), name=\"\($0.name)\"" }.joined(separator: "\n"))
                EOF
                cd '\(work.path)'
                truncate -s 64M esp.img && mformat -i esp.img -F -N 1A2B3C4D -v ESP ::
                printf '# GRUB Environment Block\\ndefault_slot=a\\n' > grubenv
                head -c $((1024 - $(wc -c < grubenv))) /dev/zero | tr '\\0' '#' >> grubenv
                mmd -i esp.img ::/grub && mcopy -i esp.img grubenv ::/grub/grubenv
                mke2fs -q -t ext4 -L scratch -U 22222222-2222-4222-8222-222222222222 scratch.img 8M
                mke2fs -q -t ext4 -L root -U 11111111-2222-4333-8444-555555555555 -E hash_seed=33333333-3333-4333-8333-333333333333,root_owner=0:0 -d tree root.img 64M
                dd if=esp.img of='\(disk.path)' bs=512 seek=\(InstallerAgentTests.layout[1].start) conv=notrunc,sparse status=none
                dd if=scratch.img of='\(disk.path)' bs=512 seek=\(InstallerAgentTests.layout[2].start) conv=notrunc,sparse status=none
                dd if=root.img of='\(disk.path)' bs=512 seek=\(InstallerAgentTests.layout[3].start) conv=notrunc,sparse status=none
                """)
            let slotStart = InstallerAgentTests.start("root-a")
            let image = SlotImage(
                partitions: InstallerAgentTests.layout.enumerated().map {
                    SlotImage.Partition(number: $0.offset + 1, name: $0.element.name, start: $0.element.start, sectors: $0.element.sectors, type: $0.element.type)
                },
                head: try BlockIndex.make(of: disk, offset: 0, length: slotStart),
                slot: try BlockIndex.make(of: disk, offset: slotStart, length: 64 << 20))
            try CanonicalJSON.encode(value: image).write(to: ImageEntry(folder: entry).slotImageFile)
            try? FileManager.default.removeItem(at: work)
            return entry
        }

        /// Makes `entry` the pending deploy of bigmem9, and runs the agent on `target`.
        func install(_ entry: URL, on target: URL) throws -> (status: Int32, output: String, reports: [InstallerReport]) {
            let deploy = PendingDeploy(
                token: PendingDeploy.makeToken(), host: "bigmem9", mac: "52:54:00:aa:00:09", swap: "swap-\(entry.lastPathComponent)",
                entry: entry.path, installer: InstallerBoot(kernel: "/dev/null", initramfs: "/dev/null"),
                rootDisk: .serial("IMAGEC-ROOT-9"))
            try state.begin(deploy, identity: identity.json)
            let agent = folder.appendingPathComponent("imagec-install")
            try NetworkInstaller.agent.write(to: agent, atomically: true, encoding: .utf8)
            let (status, output) = try run("/usr/bin/python3", [agent.path, "--server", "http://127.0.0.1:\(port)",
                                                                "--token", deploy.token, "--disk", target.path, "--no-boot"])
            return (status, output, state.reports(token: deploy.token))
        }

        func shell(_ script: String) throws {
            let (status, output) = try run("/bin/sh", ["-euc", script])
            guard status == 0 else { throw BootServerError("the fixture's script failed:\n\(output)") }
        }

        /// Exit status and output (both streams) of a program.
        private func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.start()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, output)
        }
    }

    /// The host's files, as `imagec deploy` hands them to the boot server.
    struct HostFiles {
        var files: [(path: String, contents: String, mode: Int)]
        var json: Data {
            let list = files.map { ["path": $0.path, "mode": $0.mode, "contents": Data($0.contents.utf8).base64EncodedString()] as [String: Any] }
            return try! JSONSerialization.data(withJSONObject: ["files": list])
        }
    }

    static func environment(_ disk: URL) throws -> SlotBoot.Environment? {
        let text = try PoolTests.output("/usr/bin/mtype", ["-i", "\(disk.path)@@\(start("esp"))", "::/grub/grubenv"])
        return SlotBoot.Environment(block: Data(text.utf8))
    }

    static func read(_ path: String, slot: String, of disk: URL) throws -> String {
        try PoolTests.output("/usr/sbin/debugfs", ["-R", "cat \(path)", "\(disk.path)?offset=\(start("root-\(slot)"))"])
    }

    static func sha256(of disk: URL, from offset: Int, count: Int) throws -> String {
        try PoolTests.output("/bin/sh", ["-c", "dd if='\(disk.path)' iflag=skip_bytes,count_bytes skip=\(offset) count=\(count) bs=1M status=none | sha256sum"])
    }

    @Test func firstInstallThenARedeployFetchingOnlyWhatChanged() async throws {
        let bench = try await Bench()
        let first = try bench.image("one", motd: "first image\n")
        let target = bench.folder.appendingPathComponent("machine-disk.raw")
        // The machine's disk: larger than the image, with room for a partition imagec does not own.
        try bench.shell("truncate -s \((InstallerAgentTests.layout.last!.start + InstallerAgentTests.layout.last!.sectors + 16384) * 512) '\(target.path)'")
        // What a used disk holds where the image has zeros (near the end of slot A, in the ESP).
        let junk = [Self.start("root-a") + (64 << 20) - 200_000, Self.start("esp") + (60 << 20)]
        for offset in junk {
            try bench.shell("printf 'OLD DATA' | dd of='\(target.path)' bs=1 seek=\(offset) conv=notrunc status=none")
        }

        let install = try bench.install(first, on: target)
        #expect(install.status == 0, "\(install.output)")
        #expect(install.reports.map(\.kind).last == .done && install.reports.last?.slot == "a")
        #expect(install.reports.compactMap(\.step).contains("partition"))
        let table = try PoolTests.output("/usr/sbin/sfdisk", ["--dump", target.path])
        for part in Self.layout { #expect(table.contains("start=\(String(repeating: " ", count: max(0, 12 - String(part.start).count)))\(part.start), size="), "\(part.name)\n\(table)") }
        #expect(try Self.read("/etc/motd", slot: "a", of: target) == "first image\n")
        #expect(try Self.read("/etc/ssh/ssh_host_ed25519_key", slot: "a", of: target) == "PRIVATE KEY OF bigmem9\n")
        let stat = try PoolTests.output("/usr/sbin/debugfs", ["-R", "stat /etc/ssh/ssh_host_ed25519_key", "\(target.path)?offset=\(Self.start("root-a"))"])
        #expect(stat.contains("Mode:  0600"), "\(stat)")
        var environment = try #require(try Self.environment(target))
        #expect(environment.values == ["default_slot": "a", "trial_slot": "a", "trial_left": "1"])
        for offset in junk {
            #expect(try PoolTests.output("/bin/sh", ["-c", "dd if='\(target.path)' bs=1 skip=\(offset) count=8 status=none | od -An -c"])
                .allSatisfy { "\\0 \n".contains($0) }, "old data left at byte \(offset)")
        }

        // Booted and blessed (what deploy does once the checks pass); then data imagec must
        // not touch: a partition it does not own, after the slots, and files on scratch.
        environment["trial_slot"] = nil
        environment["trial_left"] = nil
        try bench.shell("""
            echo 'start=413696, size=8192, name="home"' | sfdisk -q --append '\(target.path)'
            printf 'USERS DATA' | dd of='\(target.path)' bs=1 seek=\(413_696 * 512 + 4096) conv=notrunc status=none
            """)
        try environment.block!.write(to: bench.folder.appendingPathComponent("grubenv"))
        try bench.shell("mcopy -o -i '\(target.path)@@\(Self.start("esp"))' '\(bench.folder.path)/grubenv' ::/grub/grubenv")
        let slotA = try Self.sha256(of: target, from: Self.start("root-a"), count: 64 << 20)
        let home = try Self.sha256(of: target, from: 413_696 * 512, count: 8192 * 512)

        // One file changed: slot B is written from slot A's blocks and a few fetched ones.
        let second = try bench.image("two", motd: "second image, one file changed\n")
        let redeploy = try bench.install(second, on: target)
        #expect(redeploy.status == 0, "\(redeploy.output)")
        #expect(redeploy.reports.last?.kind == .done && redeploy.reports.last?.slot == "b")
        #expect(!redeploy.reports.compactMap(\.step).contains("partition"))
        let fetched = try #require(redeploy.reports.last?.fetched)
        let allocated = try #require(try ImageEntry(folder: second).slotImage()).slot.dataBytes
        #expect(fetched > 0 && fetched * 20 < allocated, "fetched \(fetched) of \(allocated) bytes")
        print("redeploy after a one-file change: fetched \(fetched) of the slot's \(allocated) allocated bytes")
        #expect(try Self.read("/etc/motd", slot: "b", of: target) == "second image, one file changed\n")
        #expect(try Self.read("/etc/ssh/ssh_host_ed25519_key", slot: "b", of: target) == "PRIVATE KEY OF bigmem9\n")
        #expect(try Self.environment(target)?.values == ["default_slot": "a", "trial_slot": "b", "trial_left": "1"])
        #expect(try Self.sha256(of: target, from: Self.start("root-a"), count: 64 << 20) == slotA, "the default slot was written")
        #expect(try Self.sha256(of: target, from: 413_696 * 512, count: 8192 * 512) == home, "a partition imagec does not own was written")
        #expect(try PoolTests.output("/usr/sbin/sfdisk", ["--dump", target.path]).contains("name=\"home\""))
    }

    @Test func aCorruptedImageIsRefusedAndTheDefaultSlotIsUntouched() async throws {
        let bench = try await Bench()
        let good = try bench.image("good", motd: "good\n")
        let target = bench.folder.appendingPathComponent("machine-disk.raw")
        try bench.shell("truncate -s \((InstallerAgentTests.layout.last!.start + InstallerAgentTests.layout.last!.sectors + 2048) * 512) '\(target.path)'")
        #expect(try bench.install(good, on: target).status == 0)
        let before = try Self.environment(target)
        let slotA = try Self.sha256(of: target, from: Self.start("root-a"), count: 64 << 20)

        // A new image whose bytes on the server no longer match its index (a bad disk, a bad
        // copy), in a block the machine does not hold and must fetch.
        let bad = try bench.image("bad", motd: "bad\n")
        let index = try #require(try ImageEntry(folder: bad).slotImage()).slot
        let held = try #require(try ImageEntry(folder: good).slotImage()).slot
        let block = try #require(index.blocks.indices.first { index.blocks[$0] != nil && index.blocks[$0] != held.blocks[$0] })
        try bench.shell("chmod u+w '\(bad.path)/disk.raw'; printf 'XXXX' | dd of='\(bad.path)/disk.raw' bs=1 seek=\(index.offset + block * index.blockSize + 100) conv=notrunc status=none")
        let refused = try bench.install(bad, on: target)
        #expect(refused.status == 1)
        let failure = try #require(refused.reports.last)
        #expect(failure.kind == .failed && failure.step == "write slot" && failure.message?.contains("does not match its SHA-256") == true, "\(refused.output)")
        #expect(try Self.environment(target) == before, "the next boot changed")
        #expect(try Self.sha256(of: target, from: Self.start("root-a"), count: 64 << 20) == slotA)

        // A good image then converges.
        let fixed = try bench.image("fixed", motd: "fixed\n")
        let rerun = try bench.install(fixed, on: target)
        #expect(rerun.status == 0 && rerun.reports.last?.slot == "b", "\(rerun.output)")
    }

    @Test func aDiskLaidOutOtherwiseIsLeftAlone() async throws {
        let bench = try await Bench()
        let image = try bench.image("one", motd: "one\n")
        let target = bench.folder.appendingPathComponent("machine-disk.raw")
        try bench.shell("""
            truncate -s 256M '\(target.path)'
            printf 'label: gpt\\nstart=2048, size=409600, name="data"\\n' | sfdisk -q '\(target.path)'
            """)
        let before = try Self.sha256(of: target, from: 0, count: 256 << 20)
        let refused = try bench.install(image, on: target)
        #expect(refused.status == 1)
        #expect(refused.reports.last?.kind == .failed && refused.reports.last?.step == "find disk")
        #expect(refused.reports.last?.message?.contains("the layout of \(target.path) is not this image's") == true, "\(refused.output)")
        #expect(try Self.sha256(of: target, from: 0, count: 256 << 20) == before)

        // No partition table, but a file system on the whole disk: someone's data.
        let whole = bench.folder.appendingPathComponent("whole-disk.raw")
        try bench.shell("truncate -s 256M '\(whole.path)' && mke2fs -q -t ext4 -L data '\(whole.path)'")
        let data = try Self.sha256(of: whole, from: 0, count: 256 << 20)
        let kept = try bench.install(image, on: whole)
        #expect(kept.status == 1 && kept.reports.last?.kind == .failed)
        #expect(kept.reports.last?.message?.contains("has no partition table but holds ext4: imagec does not overwrite it") == true, "\(kept.output)")
        #expect(try Self.sha256(of: whole, from: 0, count: 256 << 20) == data)
    }
}
