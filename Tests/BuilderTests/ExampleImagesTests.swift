import DefinitionEvaluation
import Foundation
import ImageBuild
import ImagecCore
import ImageDSL
import Packages
import Testing

/// Every example system builds (test001 in DeployTests and SharedStoreTests, from the
/// repository's definition with a deployment added); bigmem2, the main job, twice from scratch (two stores that
/// share only the .deb files) to the same bytes, and its image boots under SeaBIOS and OVMF and holds what its
/// definition says; the installer too, twice to the same initramfs, which boots to its agent.
/// One example per test case, so that cases run side by side.
struct ExampleImagesTests {
    static let examples = ["bigmem2", "data001", "installer", "test001", "workers"]
    /// Built here: test001 is built by the deployment tests, which boot it.
    static let built = examples.filter { $0 != "test001" }
    /// Built twice from scratch, to the same bytes.
    static let twice = ["bigmem2", "imagec-installer"]

    @Test func theExamplesAreTheseFive() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Support.repository.appendingPathComponent("systems").path)
            .filter { $0.hasSuffix(".swift") }.sorted()
        #expect(files == Self.examples.map { "\($0).swift" })
    }

    @Test(arguments: built)
    func builds(example: String) throws {
        let root = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }  // gigabytes of layers and images
        // A copy of the definitions, locked afresh against the host's apt sources.
        for folder in ["systems", "templates"] {
            try FileManager.default.copyItem(at: Support.repository.appendingPathComponent(folder), to: root.appendingPathComponent(folder))
        }
        let first = try Support.store(root.appendingPathComponent("first"))
        let second = try Support.store(root.appendingPathComponent("second"))
        let file = root.appendingPathComponent("systems/\(example).swift")
        try? FileManager.default.removeItem(at: PackageLock.url(for: file))
        let evaluation = try Support.evaluator().evaluate(file.path)
        let (lock, lockFile, _) = try Locker().lock(evaluation)
        // workers.swift declares ten systems that differ only in host name and address:
        // the first and the last stand for them, to keep the suite's time in bounds.
        let systems = evaluation.systems.count > 2 ? [evaluation.systems.first!, evaluation.systems.last!] : evaluation.systems
        for system in systems {
            let one = try ImageBuilder(store: first).build(system, lock: lock, lockFile: lockFile)
            let made = system.model.format == .initramfs ? one.entry.initramfs : one.image
            #expect(!one.reused && FileManager.default.fileExists(atPath: made.path))
            // The main job and the installer are built twice from scratch: the recipe is the same
            // for every disk, and each cold build costs a minute or more of the suite's two cores.
            guard Self.twice.contains(system.model.hostName) else { continue }
            let two = try ImageBuilder(store: second).build(system, lock: lock, lockFile: lockFile)
            #expect(!two.reused && one.digest == two.digest)
            let initramfs = system.model.format == .initramfs
            let sums = try [one, two].map { try String(contentsOf: initramfs ? URL(fileURLWithPath: $0.entry.initramfs.path + ".sha256")
                                                            : $0.entry.digestFile, encoding: .utf8) }
            #expect(sums[0] == sums[1], "\(system.model.hostName): two builds gave different images")
            try Self.empty(second)  // not needed any more: only one store's gigabytes while booting
            if initramfs {
                try bootInstaller(one.entry)
            } else {
                try checkAndBoot(system.model, image: one.image, scratch: root)
            }
        }
    }

    /// The installer's kernel boots its initramfs, whose init (systemd) brings the network up
    /// and starts the agent, which, given no boot server, says so.
    func bootInstaller(_ entry: ImageEntry) throws {
        let listing = try ImageBuilderTestSupport.output("/bin/sh", ["-c", "zstd -dc '\(entry.initramfs.path)' | cpio -t --quiet | head -3"])
        #expect(listing.hasPrefix("init\nbin\n"), "\(listing)")
        let outcome = try BootProbe.boot(kernel: entry.kernel, initramfs: entry.initramfs, arguments: "console=ttyS0,115200 net.ifnames=0",
                                         until: "imagec-install: error: no boot server or token")
        #expect(outcome.reached, "the installer's agent did not start within \(Int(outcome.seconds)) s:\n\(outcome.console)")
        #expect(outcome.console.contains("Finished systemd-networkd-wait-online") || outcome.console.contains("Wait for Network to be Configured"))
    }

    /// bigmem2's image holds what its definition says, has its two root slots, and boots under
    /// both firmwares, under UEFI from a disk larger than the image.
    func checkAndBoot(_ model: SystemModel, image: URL, scratch: URL) throws {
        let disk = try DiskReader(image)
        #expect(try disk.read("/etc/hostname") == "bigmem2\n")
        let passwd = try disk.read("/etc/passwd")
        for user in model.users { #expect(passwd.contains("\n\(user.name):x:"), "user \(user.name) is missing") }
        for file in model.files { #expect(try disk.read(file.path) == file.contents, "\(file.path) differs") }
        #expect(try disk.read("/etc/ssh/ssh_host_ed25519_key") == "")
        // Its users' home folders are made again once /home, a persistent volume, is mounted.
        #expect(try disk.read("/etc/systemd/system/imagec-homes.service").contains("RequiresMountsFor=/home\n"))
        #expect(try disk.debugfs("stat /etc/systemd/system/multi-user.target.wants/imagec-homes.service").contains("Fast link dest"))

        try checkSlots(model, image: image, disk: disk)

        // A disk 8 GiB larger than the image, as a machine's is: its two root slots keep their size.
        let larger = scratch.appendingPathComponent("larger.qcow2")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: image.path)[.size] as? Int)
        try ImageBuilderTestSupport.run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", "-b", image.path, "-F", "raw", larger.path, String(size + (8 << 30))])
        defer { try? FileManager.default.removeItem(at: larger) }
        for firmware in BootProbe.Firmware.allCases {
            let outcome = firmware == .bios
                ? try BootProbe.boot(image, firmware: firmware, until: "bigmem2 login:")
                : try BootProbe.boot(larger, format: "qcow2", firmware: firmware, until: "bigmem2 login:")
            #expect(outcome.reached, "no login prompt under \(firmware) after \(Int(outcome.seconds)) s:\n\(outcome.console)")
            #expect(!outcome.console.contains("FAILED"), "a unit failed under \(firmware):\n\(outcome.console)")
            #expect(!outcome.console.contains("resized filesystem to"), "a root slot grew under \(firmware)")
        }
    }

    /// bigmem2's disk has two root slots of its root size, B empty; GRUB on the EFI system
    /// partition boots slot A by default; the other partitions are named, not numbered, in
    /// fstab; and the slot's block index matches its bytes.
    func checkSlots(_ model: SystemModel, image: URL, disk: DiskReader) throws {
        let a = try #require(disk.partitions["root-a"]), b = try #require(disk.partitions["root-b"])
        #expect(a.sectors * 512 == Int(model.disk.rootSize.bytes) && b.sectors == a.sectors && b.start == a.start + a.sectors)
        let esp = try #require(disk.partitions["esp"])
        let environment = try ImageBuilderTestSupport.output("/usr/bin/mtype", ["-i", "\(image.path)@@\(esp.start * 512)", "::/grub/grubenv"])
        #expect(environment.hasPrefix("# GRUB Environment Block\ndefault_slot=a\n#") && environment.utf8.count == 1024)
        let fstab = try disk.read("/etc/fstab")
        #expect(fstab.contains("PARTLABEL=scratch /scratch ext4") && fstab.contains("PARTLABEL=esp /boot/efi vfat") && !fstab.contains("growfs"))

        let slots = try #require(try ImageEntry(folder: image.deletingLastPathComponent()).slotImage())
        #expect(slots.partitions.map(\.name) == ["bios", "esp", "scratch", "root-a", "root-b"])
        #expect(slots.slotPartition("b")?.start == b.start && slots.head.offset == 0 && slots.head.length == a.start * 512)
        let index = slots.slot
        #expect(index.offset == a.start * 512 && index.length == a.sectors * 512 && index.blocks.count == index.length / index.blockSize)
        // Slot A's bytes, copied out by dd and digested by the reference, and its first block
        // holding data, hashed by coreutils.
        let alone = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-slot-a-\(UUID().uuidString).raw")
        defer { try? FileManager.default.removeItem(at: alone) }
        try ImageBuilderTestSupport.run("/usr/bin/dd", ["if=\(image.path)", "of=\(alone.path)", "bs=4M", "iflag=skip_bytes,count_bytes",
                                                        "skip=\(index.offset)", "count=\(index.length)", "conv=sparse", "status=none"])
        #expect(index.digest == (try DiskDigestTests.referenceDigest(of: alone)))
        let first = try #require(index.blocks.firstIndex { $0 != nil })
        let block = try ImageBuilderTestSupport.output("/bin/sh", ["-c",
            "dd if='\(image.path)' bs=\(index.blockSize) iflag=skip_bytes skip=\(index.offset + first * index.blockSize) count=1 status=none | sha256sum"])
        #expect(block.hasPrefix(index.blocks[first]!))
        #expect(index.dataBytes < index.length / 2)
    }

    /// What only the release or the image's own tools can refute stops the build at the line
    /// that declared it: first the values the package layer disproves, then, with those fixed,
    /// what visudo, sshd -t and systemd-analyze refuse in the configured tree. Both variants
    /// of test001 have its packages, so they share one package layer.
    @Test func refusesWhatTheReleaseAndItsToolsRefuse() throws {
        let root = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.copyItem(at: Support.repository.appendingPathComponent("templates"), to: root.appendingPathComponent("templates"))
        let store = try Support.store(root.appendingPathComponent("store"))
        let release = """
            import ImageDSL

            let system = OperatingSystem(inheriting: Lab.debug(Lab.oneDiskVM(address: "10.50.103.201", on: .testnet))) {
                HostName("broken1")
                Timezone("Europe/Pariss")  // error: 'Europe/Pariss' is not a time zone of the release's tzdata; did you mean 'Europe/Paris'?
                Locales("en_US.UTF-8", "fr_FX.UTF-8")  // error: 'fr_FX.UTF-8' is not a locale the release supports
                User("alice", uid: 998, groups: ["sudoers"])  // error: uid 998 of 'alice' is already the uid of 'systemd-network' in the image
                Group("lab", members: ["carol"])  // error: member 'carol' of group 'lab' is neither a declared user nor one of the image
                File("/etc/lab.conf", owner: "httpd", contents: "x\\n")  // error: belongs to user 'httpd', who is neither declared nor in the image
            }

            """
        // The user's unknown group is a second error on its line.
        try expectRefusal(release, extra: [(7, "group 'sudoers' of user 'alice' is neither declared nor in the image")],
                          name: "broken1", root: root, store: store)
        let tools = """
            import ImageDSL

            let system = OperatingSystem(inheriting: Lab.debug(Lab.oneDiskVM(address: "10.50.103.201", on: .testnet))) {
                HostName("broken2")
                File("/etc/sudoers.d/lab", mode: 0o440, contents: "%adm ALL=(ALL:ALL NOPASSWD: ALL\\n")  // error: visudo -c refuses it: /etc/sudoers.d/lab:1:
                File("/etc/ssh/sshd_config.d/60-lab.conf", contents: "PermitRootLogn no\\n")  // error: sshd -t refuses it: /etc/ssh/sshd_config.d/60-lab.conf: line 1: Bad configuration option: PermitRootLogn
                SystemdUnit("job.service", contents: "[Service]\\nExecStart=/usr/bin/nosuch\\n")  // error: job.service: Command /usr/bin/nosuch is not executable
            }

            """
        try expectRefusal(tools, name: "broken2", root: root, store: store)
        // Nothing was made of either but the shared layer and base.
        let entries = try FileManager.default.contentsOfDirectory(atPath: store.root.path)
        #expect(!entries.contains { $0.hasSuffix("-broken1") || $0.hasSuffix("-broken2") }, "\(entries)")
        // Evaluation's copy of Debian's static accounts is the release's own.
        let layer = try #require(entries.first { $0.contains("-rootfs-") })
        func master(_ name: String) throws -> [String: Int] {
            let text = try String(contentsOf: store.root.appendingPathComponent("\(layer)/tree/usr/share/base-passwd/\(name)"), encoding: .utf8)
            return Dictionary(uniqueKeysWithValues: text.split(separator: "\n").map { line in
                let fields = line.split(separator: ":", omittingEmptySubsequences: false)
                return (String(fields[0]), Int(fields[2])!)
            })
        }
        #expect(try master("passwd.master") == DebianAccounts.users)
        #expect(try master("group.master") == DebianAccounts.groups)
    }

    /// Builds `source` as systems/`name`.swift and expects it refused with exactly its
    /// `// error:` comments (and `extra`), each at its line.
    func expectRefusal(_ source: String, extra: [(Int, String)] = [], name: String, root: URL, store: Store) throws {
        let file = root.appendingPathComponent("systems/\(name).swift")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try source.write(to: file, atomically: true, encoding: .utf8)
        let expected = source.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { index, line in
            line.firstMatch(of: /\/\/ error: (.*)$/).map { (index + 1, String($0.1)) }
        } + extra
        let evaluation = try Support.evaluator().evaluate(file.path)
        let (lock, lockFile, _) = try Locker().lock(evaluation)
        do {
            _ = try ImageBuilder(store: store).build(evaluation.systems[0], lock: lock, lockFile: lockFile)
            Issue.record("\(name) was built")
        } catch let error as DefinitionError {
            let errors = error.diagnostics.filter { $0.severity == .error }
            for (line, message) in expected {
                #expect(errors.contains { $0.location?.file == file.path && $0.location?.line == line && $0.message.contains(message) },
                        "\(name):\(line): expected an error containing “\(message)”; got:\n\(error.description)")
            }
            #expect(errors.count == expected.count, "\(name): expected \(expected.count) errors; got:\n\(error.description)")
        }
    }

    /// Removes every entry of a test store but its shared .deb cache.
    static func empty(_ store: Store) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: store.root.path) where name != "debs" {
            try FileManager.default.removeItem(at: store.root.appendingPathComponent(name))
        }
    }
}

/// Reads files of an image's root file system without mounting it (debugfs at the root
/// partition's offset).
struct DiskReader {
    let device: String

    init(_ image: URL) throws {
        let table = try ImageBuilderTestSupport.output("/usr/sbin/sfdisk", ["--json", image.path])
        let json = try JSONSerialization.jsonObject(with: Data(table.utf8)) as? [String: Any]
        let partitions = (json?["partitiontable"] as? [String: Any])?["partitions"] as? [[String: Any]] ?? []
        self.partitions = Dictionary(uniqueKeysWithValues: partitions.compactMap { partition in
            (partition["name"] as? String).map { ($0, (start: partition["start"] as? Int ?? 0, sectors: partition["size"] as? Int ?? 0)) }
        })
        let root = try #require(self.partitions["root"] ?? self.partitions["root-a"], "\(image.path) has no root partition")
        device = "\(image.path)?offset=\(root.start * 512)"
    }

    /// The partitions by name: start and size in sectors.
    let partitions: [String: (start: Int, sectors: Int)]

    func read(_ path: String) throws -> String { try debugfs("cat \(path)") }

    /// The output of one debugfs request, such as `stat /etc/localtime`.
    func debugfs(_ request: String) throws -> String {
        try ImageBuilderTestSupport.output("/usr/sbin/debugfs", ["-R", request, device], standardError: false)
    }
}
