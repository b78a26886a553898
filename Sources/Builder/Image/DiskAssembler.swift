import Foundation
import ImageDSL

/// Turns a configured root tree into a GPT disk image that boots under BIOS and UEFI, without
/// loop devices or mounts: file systems are made from folders (`mke2fs -d`), the EFI system
/// partition with mtools, GRUB with `grub-mkimage`, and everything is written into one sparse
/// file at its offset. See docs/image-build.md for why each step is done the way it is.
struct DiskAssembler {
    let model: SystemModel
    let root: URL
    let ids: ImageIdentifiers
    let sourceDateEpoch: Int
    let scratch: URL

    static let sector = 512
    static let biosBootStart = 2048, biosBootSectors = 2048
    static let espStart = 4096, espSectors = 131_072
    /// The discoverable-partitions type of an x86-64 root file system.
    static let rootType = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"

    /// Makes the disk at `output`; reports each step through `step`.
    func assemble(into output: URL, step: (String, () throws -> Void) throws -> Void) throws {
        var environment = ProcessInfo.processInfo.environment
        environment["SOURCE_DATE_EPOCH"] = String(sourceDateEpoch)
        environment["E2FSPROGS_FAKE_TIME"] = String(sourceDateEpoch)
        environment["LC_ALL"] = "C"
        environment["TZ"] = "UTC"
        let tools = Tools(environment: environment, scratch: scratch)

        let rootImage = scratch.appendingPathComponent("root.img")
        try step("root file system") {
            try tools.run("/bin/sh", ["-c", #"find "$1" -newermt "@$2" -print0 | xargs -0r touch -h -d "@$2""#, "sh", root.path, String(sourceDateEpoch)])
            try checkSize()
            try makeExt4(rootImage, label: "root", uuid: ids.fileSystemUUID("root"), size: model.disk.rootSize, from: root, tools: tools)
        }
        var partitionImages: [(Partition, URL)] = []
        try step("partitions") {
            for partition in model.disk.partitions {
                let image = scratch.appendingPathComponent("\(partition.name).img")
                switch partition.fileSystem {
                case .ext4:
                    try makeExt4(image, label: partition.name, uuid: ids.fileSystemUUID(partition.name), size: partition.size, from: nil, tools: tools)
                case .swap:
                    try tools.truncate(image, to: partition.size.bytes)
                    try tools.run("/usr/sbin/mkswap", ["-U", ids.fileSystemUUID(partition.name), "-L", partition.name, image.path])
                default:
                    throw DefinitionError(.invalid, [Diagnostic(
                        "imagec builds ext4 and swap partitions; '\(partition.name)' is \(partition.fileSystem.rawValue)",
                        at: model.location(of: "partition:\(partition.name)"))])
                }
                partitionImages.append((partition, image))
            }
        }
        let esp = scratch.appendingPathComponent("esp.img")
        let core = scratch.appendingPathComponent("core.img")
        try step("boot loader") {
            let early = scratch.appendingPathComponent("early.cfg")
            try "search --no-floppy --fs-uuid --set=root \(ids.fileSystemUUID("root"))\nset prefix=($root)/boot/grub\n"
                .write(to: early, atomically: true, encoding: .utf8)
            let modules = ["normal", "configfile", "linux", "search", "search_fs_uuid", "part_gpt", "ext2", "fat", "echo", "test",
                           "serial", "terminal", "ls", "cat", "boot", "sleep"]
            let efi = scratch.appendingPathComponent("BOOTX64.EFI")
            try tools.run("/usr/bin/grub-mkimage", ["-O", "x86_64-efi", "-p", "/boot/grub", "-c", early.path, "-o", efi.path] + modules + ["efi_gop"])
            try tools.run("/usr/bin/grub-mkimage", ["-O", "i386-pc", "-p", "/boot/grub", "-c", early.path, "-o", core.path] + modules + ["biosdisk"])
            try tools.truncate(esp, to: UInt64(Self.espSectors * Self.sector))
            try tools.run("/usr/bin/mformat", ["-i", esp.path, "-F", "-N", ids.espSerial, "-v", "ESP", "::"])
            try tools.run("/usr/bin/mmd", ["-i", esp.path, "::/EFI", "::/EFI/BOOT"])
            try tools.run("/usr/bin/mcopy", ["-i", esp.path, efi.path, "::/EFI/BOOT/BOOTX64.EFI"])
        }
        try step("disk") {
            // The root partition comes last, so it can grow into a larger disk on first boot.
            var layout: [(name: String, start: Int, sectors: Int, type: String, image: URL)] = []
            var next = Self.espStart + Self.espSectors
            for (partition, image) in partitionImages {
                let type = partition.fileSystem == .swap ? "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F" : "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
                layout.append((partition.name, next, Int(partition.size.bytes) / Self.sector, type, image))
                next += layout.last!.sectors
            }
            layout.append(("root", next, Int(model.disk.rootSize.bytes) / Self.sector, Self.rootType, rootImage))
            next += layout.last!.sectors
            try? FileManager.default.removeItem(at: output)
            try tools.truncate(output, to: UInt64(next + 2048) * UInt64(Self.sector))
            var script = "label: gpt\nlabel-id: \(ids.diskGUID)\nunit: sectors\nfirst-lba: 2048\n"
            script += "start=\(Self.biosBootStart), size=\(Self.biosBootSectors), type=21686148-6449-6E6F-744E-656564454649, uuid=\(ids.partitionGUID("bios")), name=\"bios\"\n"
            script += "start=\(Self.espStart), size=\(Self.espSectors), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=\(ids.partitionGUID("esp")), name=\"esp\"\n"
            for part in layout {
                script += "start=\(part.start), size=\(part.sectors), type=\(part.type), uuid=\(ids.partitionGUID(part.name)), name=\"\(part.name)\"\n"
            }
            let scriptFile = scratch.appendingPathComponent("sfdisk.txt")
            try script.write(to: scriptFile, atomically: true, encoding: .utf8)
            try tools.run("/bin/sh", ["-c", #"/usr/sbin/sfdisk -q --no-reread --no-tell-kernel "$1" < "$2""#, "sh", output.path, scriptFile.path])
            try tools.copy(esp, into: output, at: Self.espStart)
            for part in layout { try tools.copy(part.image, into: output, at: part.start) }
            if model.firmware != .uefi { try installBIOSBoot(core: core, disk: output) }
        }
    }

    /// A root tree larger than the declared root size is the definition's problem: say both sizes.
    private func checkSize() throws {
        let result = try Command(executable: "/usr/bin/du", arguments: ["-s", "-B1", "--apparent-size", root.path])
            .run(timeout: 300, outputFile: scratch.appendingPathComponent("du.txt"))
        guard let used = result.output.split(separator: "\t").first.flatMap({ UInt64($0) }) else { return }
        // Room for metadata and the journal: about a tenth more, and 64 MiB.
        let needed = used + used / 10 + (64 << 20)
        if needed > model.disk.rootSize.bytes {
            throw DefinitionError(.invalid, [Diagnostic(
                "the root file system needs about \(ByteCount(bytes: needed).rounded) but the root size is \(model.disk.rootSize)",
                at: model.location(of: "rootSize"))])
        }
    }

    private func makeExt4(_ image: URL, label: String, uuid: String, size: ByteCount, from tree: URL?, tools: Tools) throws {
        let configuration = scratch.appendingPathComponent("mke2fs.conf")
        // A pinned configuration, so the host's defaults cannot change the result.
        try """
            [defaults]
            \tbase_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
            \tdefault_mntopts = acl,user_xattr
            \tenable_periodic_fsck = 0
            \tblocksize = 4096
            \tinode_size = 256
            \tinode_ratio = 16384
            [fs_types]
            \text4 = {
            \t\tfeatures = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
            \t}

            """.write(to: configuration, atomically: true, encoding: .utf8)
        try tools.truncate(image, to: size.bytes)
        var arguments = ["-q", "-F", "-t", "ext4", "-L", label, "-U", uuid, "-E", "hash_seed=\(uuid),root_owner=0:0,lazy_itable_init=0"]
        if let tree { arguments += ["-d", tree.path] }
        try tools.run("/usr/sbin/mke2fs", arguments + [image.path], extra: ["MKE2FS_CONFIG": configuration.path])
        guard tree != nil else { return }
        // mke2fs copies each source file's atime and ctime (the unpack time): set them all.
        let groups = try tools.output("/usr/sbin/dumpe2fs", [image.path])
        var perGroup = 0, group = 0
        var commands = ""
        for line in groups.split(separator: "\n") {
            if line.hasPrefix("Inodes per group:") { perGroup = Int(line.split(separator: " ").last!)! }
            if line.hasPrefix("Group "), let number = Int(line.dropFirst(6).prefix { $0.isNumber }) { group = number }
            guard line.hasPrefix("  Free inodes: ") else { continue }
            var free = Set<Int>()
            for range in line.dropFirst(15).split(separator: ",") {
                let bounds = range.trimmingCharacters(in: .whitespaces).split(separator: "-").compactMap { Int($0) }
                if let low = bounds.first { free.formUnion(low...(bounds.last ?? low)) }
            }
            for inode in (group * perGroup + 1)...((group + 1) * perGroup) where !free.contains(inode) {
                commands += "sif <\(inode)> atime @\(sourceDateEpoch)\nsif <\(inode)> ctime @\(sourceDateEpoch)\n"
            }
        }
        let commandFile = scratch.appendingPathComponent("debugfs.txt")
        try commands.write(to: commandFile, atomically: true, encoding: .utf8)
        try tools.run("/usr/sbin/debugfs", ["-w", "-f", commandFile.path, image.path])
        try tools.run("/usr/sbin/e2fsck", ["-fn", image.path])
    }

    /// What grub-bios-setup does, done by hand (it wants a real device): core.img in the BIOS
    /// boot partition, pointed at its own second sector; boot.img in the MBR, pointed at core.img,
    /// keeping the protective MBR's partition table.
    private func installBIOSBoot(core: URL, disk: URL) throws {
        var coreImage = try Data(contentsOf: core)
        guard coreImage.count <= Self.biosBootSectors * Self.sector else {
            throw BuildEnvironmentError("GRUB's core.img (\(coreImage.count) bytes) does not fit the BIOS boot partition")
        }
        coreImage.replaceSubrange(0x1f4..<0x1fc, with: littleEndian(UInt64(Self.biosBootStart + 1)))
        let handle = try FileHandle(forUpdating: disk)
        defer { try? handle.close() }
        try handle.seek(toOffset: 0)
        let mbr = try handle.read(upToCount: Self.sector) ?? Data()
        var boot = try Data(contentsOf: URL(fileURLWithPath: "/usr/lib/grub/i386-pc/boot.img"))
        boot.replaceSubrange(3..<90, with: mbr[3..<90])
        boot.replaceSubrange(440..<510, with: mbr[440..<510])
        boot.replaceSubrange(0x5c..<0x64, with: littleEndian(UInt64(Self.biosBootStart)))
        boot.replaceSubrange(0x66..<0x68, with: [0x90, 0x90])
        try handle.seek(toOffset: UInt64(Self.biosBootStart * Self.sector))
        try handle.write(contentsOf: coreImage)
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: boot)
    }

    private func littleEndian(_ value: UInt64) -> Data {
        withUnsafeBytes(of: value.littleEndian) { Data($0) }
    }
}

/// Runs the image tools with a fixed environment, failing with their output.
struct Tools {
    var environment: [String: String]
    var scratch: URL

    func run(_ executable: String, _ arguments: [String], extra: [String: String] = [:]) throws {
        _ = try output(executable, arguments, extra: extra)
    }

    func output(_ executable: String, _ arguments: [String], extra: [String: String] = [:]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            let package = Self.packages[URL(fileURLWithPath: executable).lastPathComponent] ?? "the package providing it"
            throw BuildEnvironmentError("\(executable) is missing: install the Debian package '\(package)' (scripts/setup installs everything)")
        }
        let result = try Command(executable: executable, arguments: arguments, environment: environment.merging(extra) { $1 })
            .run(timeout: 1800, outputFile: scratch.appendingPathComponent("tool-output.txt"))
        guard result.status == 0 else { throw ToolError(([executable] + arguments).joined(separator: " "), result) }
        return result.output
    }

    /// The Debian package of each tool imagec runs.
    static let packages = [
        "mke2fs": "e2fsprogs", "debugfs": "e2fsprogs", "dumpe2fs": "e2fsprogs", "e2fsck": "e2fsprogs", "mkswap": "util-linux",
        "grub-mkimage": "grub-common", "mformat": "mtools", "mmd": "mtools", "mcopy": "mtools", "sfdisk": "fdisk",
        "mmdebstrap": "mmdebstrap", "apt-ftparchive": "apt-utils", "qemu-img": "qemu-utils", "systemctl": "systemd",
    ]

    func truncate(_ file: URL, to size: UInt64) throws {
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        guard Foundation.truncate(file.path, off_t(size)) == 0 else {
            throw BuildEnvironmentError("cannot size \(file.path): \(String(cString: strerror(errno)))")
        }
    }

    /// Copies `image` into `disk` at a sector, leaving holes where the image has zeros.
    func copy(_ image: URL, into disk: URL, at sector: Int) throws {
        try run("/bin/dd", ["if=\(image.path)", "of=\(disk.path)", "bs=1M", "seek=\(sector * 512)", "oflag=seek_bytes",
                            "conv=notrunc,sparse", "status=none"])
    }
}
