import Foundation
import ImagecCore
import ImageDSL

/// Makes a GPT disk image that boots under BIOS and UEFI, without loop devices or mounts: the
/// root file system is a copy of the root base's ext4 image with configuration's changes
/// replayed by debugfs, other file systems are made by mke2fs, the EFI system partition with
/// mtools, GRUB with `grub-mkimage`, and everything is written into one sparse file at its
/// offset. See docs/image-build.md for why each step is done the way it is.
struct DiskAssembler {
    let model: SystemModel
    /// A copy of the root base's disk (its ext4 file system already at the root partition's
    /// offset), which becomes the image, and what configuration changed in its tree. The copy
    /// is asked for only when the disk is put together, so it can be made meanwhile.
    let rootDisk: () throws -> URL
    let ids: ImageIdentifiers
    let sourceDateEpoch: Int
    let scratch: URL

    static let sector = 512
    static let biosBootStart = 2048, biosBootSectors = 2048
    static let espStart = 4096, espSectors = 131_072
    /// The discoverable-partitions type of an x86-64 root file system.
    static let rootType = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"

    /// Where the root partition (or slot A) starts, in sectors: after the BIOS boot partition,
    /// the EFI system partition and the declared partitions. It comes last (with slot B after
    /// it), so a single root can grow into a larger disk on first boot.
    static func rootStart(_ model: SystemModel) -> Int {
        partitionTable(model).first { $0.name == "root" || $0.name == "root-a" }!.start
    }

    /// The image's partitions, in order: BIOS boot, EFI system, the declared ones, then the
    /// root (or root slots A and B, the same size; B is left empty).
    static func partitionTable(_ model: SystemModel) -> [SlotImage.Partition] {
        var table = [SlotImage.Partition(number: 1, name: "bios", start: biosBootStart, sectors: biosBootSectors, type: "21686148-6449-6E6F-744E-656564454649"),
                     SlotImage.Partition(number: 2, name: "esp", start: espStart, sectors: espSectors, type: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B")]
        func add(_ name: String, sectors: Int, type: String) {
            let last = table.last!
            table.append(SlotImage.Partition(number: last.number + 1, name: name, start: last.start + last.sectors, sectors: sectors, type: type))
        }
        for partition in model.disk.partitions {
            add(partition.name, sectors: Int(partition.size.bytes) / sector,
                type: partition.fileSystem == .swap ? "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F" : "0FC63DAF-8483-4772-8E79-3D69D8477DE4")
        }
        let rootSectors = Int(model.disk.rootSize.bytes) / sector
        if model.disk.rootSlots == .ab {
            add("root-a", sectors: rootSectors, type: rootType)
            add("root-b", sectors: rootSectors, type: rootType)
        } else {
            add("root", sectors: rootSectors, type: rootType)
        }
        return table
    }

    /// What the disk holds besides the root file system, made before it: the other
    /// partitions' file systems, the EFI system partition and GRUB's BIOS core image.
    struct Parts {
        var partitionImages: [(Partition, URL)] = []
        var esp: URL
        var core: URL
    }

    private var tools: Tools { Tools(environment: Self.environment(sourceDateEpoch), scratch: scratch) }

    /// Makes the parts (needing neither the root base nor the configuration, so they can be
    /// made meanwhile); reports each step through `step`.
    func makeParts(step: (String, () throws -> Void) throws -> Void) throws -> Parts {
        let tools = self.tools
        let slotted = model.disk.rootSlots == .ab
        // Two slots share the EFI system partition, written once per machine: its serial comes
        // from the host, not from one image.
        let espSerial = slotted ? ImageIdentifiers(digest: "host \(model.hostName)").espSerial : ids.espSerial
        let ext4 = Ext4(tools: tools, scratch: scratch, time: sourceDateEpoch)
        var partitionImages: [(Partition, URL)] = []
        try step("partitions") {
            for partition in model.disk.partitions {
                let image = scratch.appendingPathComponent("\(partition.name).img")
                switch partition.fileSystem {
                case .ext4:
                    try ext4.make(image, label: partition.name, uuid: ids.fileSystemUUID(partition.name), size: partition.size, from: nil)
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
            // With one root, GRUB starts from the root file system; with two slots, from the
            // EFI system partition, where it chooses the slot (SlotBoot).
            let early = scratch.appendingPathComponent("early.cfg")
            var modules = ["normal", "configfile", "linux", "search", "search_fs_uuid", "part_gpt", "ext2", "fat", "echo", "test",
                           "serial", "terminal", "ls", "cat", "boot", "sleep"]
            if slotted {
                let uuid = "\(espSerial.prefix(4))-\(espSerial.suffix(4))"
                try "search --no-floppy --fs-uuid --set=root \(uuid)\nset prefix=($root)/grub\n".write(to: early, atomically: true, encoding: .utf8)
                modules += ["regexp", "loadenv"]
            } else {
                try "search --no-floppy --fs-uuid --set=root \(ids.fileSystemUUID("root"))\nset prefix=($root)/boot/grub\n"
                    .write(to: early, atomically: true, encoding: .utf8)
            }
            let efi = scratch.appendingPathComponent("BOOTX64.EFI")
            try tools.run("/usr/bin/grub-mkimage", ["-O", "x86_64-efi", "-p", "/boot/grub", "-c", early.path, "-o", efi.path] + modules + ["efi_gop"])
            try tools.run("/usr/bin/grub-mkimage", ["-O", "i386-pc", "-p", "/boot/grub", "-c", early.path, "-o", core.path] + modules + ["biosdisk"])
            try tools.truncate(esp, to: UInt64(Self.espSectors * Self.sector))
            try tools.run("/usr/bin/mformat", ["-i", esp.path, "-F", "-N", espSerial, "-v", "ESP", "::"])
            try tools.run("/usr/bin/mmd", ["-i", esp.path, "::/EFI", "::/EFI/BOOT"])
            try tools.run("/usr/bin/mcopy", ["-i", esp.path, efi.path, "::/EFI/BOOT/BOOTX64.EFI"])
            if slotted {
                let table = Self.partitionTable(model)
                func number(_ name: String) -> Int { table.first { $0.name == name }!.number }
                let slots = (a: number("root-a"), b: number("root-b"))
                let chooser = scratch.appendingPathComponent("grub.cfg"), environment = scratch.appendingPathComponent("grubenv")
                try SlotBoot.chooser(partitions: slots).write(to: chooser, atomically: true, encoding: .utf8)
                try SlotBoot.Environment(["default_slot": "a"]).block!.write(to: environment)
                try tools.run("/usr/bin/mmd", ["-i", esp.path, "::/grub"])
                try tools.run("/usr/bin/mcopy", ["-i", esp.path, chooser.path, environment.path, "::/grub/"])
            }
        }
        return Parts(partitionImages: partitionImages, esp: esp, core: core)
    }

    /// Makes the disk at `output` from `parts`, the root base's disk and what configuration
    /// changed; reports each step through `step`.
    /// - Returns: the byte ranges of the root file system that differ from the root base's disk.
    func assemble(_ parts: Parts, delta: TreeDelta, into output: URL, step: (String, () throws -> Void) throws -> Void) throws -> [Range<Int>] {
        var changed: [Range<Int>] = []
        let tools = self.tools
        let ext4 = Ext4(tools: tools, scratch: scratch, time: sourceDateEpoch)
        try step("disk") {
            let table = Self.partitionTable(model)
            let root = try rootDisk()
            // The root base's disk, then the rest on top.
            try? FileManager.default.removeItem(at: output)
            guard rename(root.path, output.path) == 0 else {
                throw BuildEnvironmentError("cannot move \(root.path) to \(output.path): \(String(cString: strerror(errno)))")
            }
            try tools.truncate(output, to: UInt64(table.last!.start + table.last!.sectors + 2048) * UInt64(Self.sector))
            var script = "label: gpt\nlabel-id: \(ids.diskGUID)\nunit: sectors\nfirst-lba: 2048\n"
            for part in table {
                script += "start=\(part.start), size=\(part.sectors), type=\(part.type), uuid=\(ids.partitionGUID(part.name)), name=\"\(part.name)\"\n"
            }
            let scriptFile = scratch.appendingPathComponent("sfdisk.txt")
            try script.write(to: scriptFile, atomically: true, encoding: .utf8)
            try tools.run("/bin/sh", ["-c", #"/usr/sbin/sfdisk -q --no-reread --no-tell-kernel "$1" < "$2""#, "sh", output.path, scriptFile.path])
            try SparseFile.copy(parts.esp, into: output, at: Self.espStart * Self.sector)
            for (partition, image) in parts.partitionImages {
                try SparseFile.copy(image, into: output, at: table.first { $0.name == partition.name }!.start * Self.sector)
            }
            if model.firmware != .uefi { try installBIOSBoot(core: parts.core, disk: output) }
        }
        try step("configuration") {
            do {
                changed = try ext4.apply(delta, to: output, offset: Self.rootStart(model) * Self.sector, uuid: ids.fileSystemUUID("root"))
            } catch let full as Ext4.Full {
                throw DefinitionError(.invalid, [Diagnostic(
                    "the root file system is full (root size \(model.disk.rootSize)): \(full.message)", at: model.location(of: "rootSize"))])
            }
        }
        return changed
    }

    /// The environment of the image tools: nothing from the clock, the locale or the time zone.
    static func environment(_ sourceDateEpoch: Int) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["SOURCE_DATE_EPOCH"] = String(sourceDateEpoch)
        environment["E2FSPROGS_FAKE_TIME"] = String(sourceDateEpoch)
        environment["LC_ALL"] = "C"
        environment["TZ"] = "UTC"
        // mke2fs, debugfs, tune2fs and sfdisk sync the file they wrote: on a disk that was just
        // copied, that writes out a gigabyte before the build can go on. A store entry is not
        // made durable anyway (a build interrupted by a crash is made again), so their syncs
        // are skipped when libeatmydata is installed; the bytes are the same.
        if FileManager.default.fileExists(atPath: eatMyData) {
            environment["LD_PRELOAD"] = [eatMyData, environment["LD_PRELOAD"]].compactMap { $0 }.joined(separator: " ")
        }
        return environment
    }

    static let eatMyData = "/usr/lib/x86_64-linux-gnu/libeatmydata.so.1"

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
