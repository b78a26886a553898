import Checks
import Foundation
import ImageBuild
import ImagecCore
import ImageDSL

/// `imagec test`: boots the very image in the store, by digest, on a throw-away overlay, with
/// each firmware the system targets, runs the system's checks in it and records the result
/// against the digest.
///
/// The guest is reached over SSH as root with a key made for this run. The key, a sshd
/// drop-in allowing it, and a network file giving the test network card a fixed address
/// reach the guest as a systemd credential (`tmpfiles.extra`, SMBIOS type 11): they exist only
/// in the overlay, and the store's image is checked against its SHA-256 before and after.
public struct ImageTester: Sendable {
    public var store: Store

    public init(store: Store) { self.store = store }

    public struct Options: Sendable {
        /// Test only with these firmwares (all the system targets when `nil`).
        public var firmwares: [String]?
        /// Leave the (last) machine running and print how to reach it.
        public var keepRunning = false
        /// Seconds for the guest to answer over SSH; default 120 with KVM, 300 with TCG.
        public var bootTimeout: Double?

        public init(firmwares: [String]? = nil, keepRunning: Bool = false, bootTimeout: Double? = nil) {
            self.firmwares = firmwares
            self.keepRunning = keepRunning
            self.bootTimeout = bootTimeout
        }
    }

    /// Tests `build`'s image of `model`; one record per firmware, saved in the store.
    public func test(
        _ build: ImageBuilder.Result, model: SystemModel, options: Options = Options(), progress: ProgressReporter
    ) throws -> [TestRecord] {
        if model.format == .initramfs {
            throw DefinitionError(.invalid, [Diagnostic(
                "system '\(model.hostName)' is built as an initramfs (ImageFormat.initramfs): imagec test boots disk images only",
                at: model.location(of: "format"))])
        }
        guard model.services.contains(where: { $0.type == OpenSSH.name }), !model.network.interfaces.isEmpty else {
            throw DefinitionError(.invalid, [Diagnostic(
                "imagec test reaches the guest over SSH: system '\(model.hostName)' needs the OpenSSH service and a network interface",
                at: model.location(of: "system"))])
        }
        let targeted: [GuestMachine.Firmware] = model.firmware == .both ? [.bios, .uefi] : model.firmware == .bios ? [.bios] : [.uefi]
        let firmwares = try options.firmwares.map { names in
            try names.map { name in
                guard let firmware = GuestMachine.Firmware(rawValue: name), targeted.contains(firmware) else {
                    throw UsageError("\(model.hostName) does not target firmware '\(name)' (it targets \(targeted.map(\.rawValue).joined(separator: " and ")))")
                }
                return firmware
            }
        } ?? targeted

        let scratch = store.root.appendingPathComponent(".tmp-\(getpid())-test-\(model.hostName)")
        Interruption.removeOnInterrupt(scratch)
        try? FileManager.default.removeItem(at: scratch)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        var keepScratch = false
        defer {
            if !keepScratch {
                try? FileManager.default.removeItem(at: scratch)
                Interruption.forget(scratch)
            }
        }

        let recorded = try build.entry.recordedDigest()
        try verify(build.image, against: recorded, when: "before the test")
        let kernel = layerKernel(of: build.entry)
        let (accelerator, reason) = try Accelerator.choose(kernel: kernel, store: store, scratch: scratch)
        progress("accelerator: \(accelerator.rawValue) (\(reason))")
        let bootTimeout = options.bootTimeout ?? (accelerator == .kvm ? 120 : 300)

        var records: [TestRecord] = []
        for (index, firmware) in firmwares.enumerated() {
            let folder = scratch.appendingPathComponent(firmware.rawValue)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let keep = options.keepRunning && index == firmwares.count - 1
            records.append(try boot(build, model: model, firmware: firmware, accelerator: accelerator, folder: folder,
                                    bootTimeout: bootTimeout, keepRunning: keep, progress: progress))
            if keep { keepScratch = true; Interruption.forget(scratch) }
        }
        if !keepScratch { try verify(build.image, against: recorded, when: "after the test") }
        return records
    }

    private func boot(
        _ build: ImageBuilder.Result, model: SystemModel, firmware: GuestMachine.Firmware, accelerator: Accelerator, folder: URL,
        bootTimeout: Double, keepRunning: Bool, progress: ProgressReporter
    ) throws -> TestRecord {
        let slot = try GuestSlot.take(for: accelerator, progress: progress)
        defer { slot?.release() }
        let started = Date()
        let (key, publicKey) = try GuestShell.makeKey(in: folder)
        let (imageBus, disks) = try disks(of: model, in: folder, progress: progress)
        let network = GuestNetwork(for: model)
        let machine = try GuestMachine(image: build.image, firmware: firmware, accelerator: accelerator, folder: folder,
                                       credentials: ["tmpfiles.extra": Self.injection(publicKey: publicKey, model: model, network: network)],
                                       imageBus: imageBus, disks: disks, network: network,
                                       kernelLogsToSerial: model.kernelArguments.contains { $0.hasPrefix("console=ttyS") })
        let guest = GuestShell(port: machine.sshPort, key: key, scratch: folder)
        defer { if !keepRunning { machine.stop() } }
        defer { guest.close() }  // before the machine stops
        progress("booting \(model.hostName) with \(firmware == .bios ? "SeaBIOS" : "OVMF (UEFI)") under \(accelerator.rawValue)…")

        var record = TestRecord(
            entry: build.entry.name, hostName: model.hostName, firmware: firmware.rawValue,
            accelerator: accelerator.rawValue, passed: false, failure: nil,
            started: ISO8601DateFormatter().string(from: started), bootSeconds: nil, seconds: 0, checks: [],
            imagecVersion: Imagec.version)
        func finish(_ failure: String?) throws -> TestRecord {
            record.failure = failure
            record.passed = failure == nil
            record.seconds = (Date().timeIntervalSince(started) * 10).rounded() / 10
            if !keepRunning { machine.stop() }
            let saved = try record.save(console: machine.console, in: store)
            if let failure {
                let tail = machine.consoleText().split(separator: "\n", omittingEmptySubsequences: false).suffix(60).joined(separator: "\n")
                progress("FAILED: \(failure)\nlast 60 lines of the console:\n\(tail)\nwhole console: \(saved.path)/console.log")
            } else {
                progress("passed \(record.checks.count) checks with \(firmware.rawValue) in \(record.seconds) s")
            }
            return record
        }

        // Booting: until SSH answers, the machine stops, the kernel panics or time runs out.
        while true {
            let console = machine.consoleText()
            if let panic = console.split(separator: "\n").first(where: { $0.contains("Kernel panic") }) {
                return try finish("kernel panic: \(panic.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            if !machine.isRunning {
                return try finish("the machine stopped before SSH answered: \(machine.qemuMessages().trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            if Date().timeIntervalSince(started) > bootTimeout {
                return try finish("the guest did not answer over SSH within the boot timeout of \(Int(bootTimeout)) s")
            }
            if let answer = try? guest.run("true", timeout: 15), answer.status == 0 { break }
            Thread.sleep(forTimeInterval: 2)
        }
        record.bootSeconds = (Date().timeIntervalSince(started) * 10).rounded() / 10
        progress("booted: SSH answered after \(record.bootSeconds!) s")

        let runner = CheckRunner(shell: guest, siteMounts: CheckRunner.siteMounts(of: model))
        // A volume the test machine cannot attach under its name is not the image's fault.
        let unattached = Set(model.disk.persistentVolumes.filter { $0.device.map { Self.standIn(for: $0) == nil } ?? false }
            .map { "mounted \($0.mountPoint)" })
        let checks = (model.checks ?? []).filter { !unattached.contains($0.name) }.sorted { ($0.name == "boot" ? 0 : 1, $0.name) < ($1.name == "boot" ? 0 : 1, $1.name) }
        for check in checks {
            let outcome = runner.run(check)
            record.checks.append(outcome)
            progress("\(outcome.passed ? "pass" : "FAIL") \(check.name) (\(outcome.seconds) s)")
            if !outcome.passed {
                progress(outcome.output.split(separator: "\n").prefix(30).map { "    \($0)" }.joined(separator: "\n"))
            }
        }
        if keepRunning {
            machine.detach()
            progress("""
                the machine keeps running (QEMU pid \(machine.processIdentifier)); reach it with
                  ssh \(guest.sshArguments.joined(separator: " "))
                its console is \(machine.console.path); stop it with: kill \(machine.processIdentifier)
                """)
        }
        let failed = record.checks.filter { !$0.passed }.map(\.name)
        return try finish(failed.isEmpty ? nil : "check\(failed.count == 1 ? "" : "s") failed: \(failed.joined(separator: ", "))")
    }

    /// The credential that makes the test channel in the guest: root's throw-away key, a sshd
    /// drop-in that lets it in (read before the image's own settings), and, when the image's own
    /// network cannot reach the test card (``GuestNetwork``), a fixed address on it.
    static func injection(publicKey: String, model: SystemModel, network: GuestNetwork) -> String {
        let networkFile = #"[Match]\nMACAddress=\#(GuestMachine.macAddress)\n\n[Network]\nAddress=\#(GuestMachine.guestAddress)/24\nGateway=\#(GuestMachine.hostAddress)\n"#
        var sshd = #"PermitRootLogin prohibit-password\nAuthorizedKeysFile /run/imagec-test/authorized_keys\n"#
        // sshd adds up AllowUsers and AllowGroups lines: where the image restricts logins, root joins the list.
        let settings = model.files.filter { $0.path.hasPrefix("/etc/ssh/sshd_config") }
            .flatMap { $0.contents.split(separator: "\n") }.map { $0.lowercased().trimmingCharacters(in: .whitespaces) }
        if settings.contains(where: { $0.hasPrefix("allowgroups") }) { sshd += #"AllowGroups root\n"# }
        if settings.contains(where: { $0.hasPrefix("allowusers") }) { sshd += #"AllowUsers root\n"# }
        // sshd starts after these files exist (after sysinit.target); networkd may not.
        return """
            d /run/imagec-test 0700 root root -
            f+ /run/imagec-test/authorized_keys 0600 root root - \(publicKey)
            f+ /etc/ssh/sshd_config.d/00-imagec-test.conf 0644 root root - \(sshd)

            """ + (network.needsInjection ? "f+ /run/systemd/network/10-imagec-test.network 0644 root root - \(networkFile)\n" : "")
    }

    /// A blank, formatted, sparse disk for each persistent volume, so the image mounts them as
    /// it will on the machine: those found by label as further virtio disks, those named by a
    /// device (`/dev/sdb`, `/dev/vdb`, `/dev/nvme1n1`) on the bus that gives them that name, with
    /// the image on the same bus ahead of them. A device name no bus gives is reported.
    private func disks(of model: SystemModel, in folder: URL, progress: ProgressReporter) throws -> (imageBus: GuestMachine.Bus, disks: [GuestMachine.Disk]) {
        var placed: [(volume: PersistentVolume, disk: GuestMachine.Disk, order: Int)] = []
        for volume in model.disk.persistentVolumes {
            let file = folder.appendingPathComponent("volume-\(volume.name).raw")
            guard let device = volume.device else {
                placed.append((volume, .init(file: file, bus: .virtio), 1000 + placed.count))
                continue
            }
            guard let (bus, number) = Self.standIn(for: device) else {
                progress("note: no disk of the test machine is named \(device): volume '\(volume.name)' is not attached "
                    + "and its check 'mounted \(volume.mountPoint)' is skipped")
                continue
            }
            placed.append((volume, .init(file: file, bus: bus, slot: number), number))
        }
        // The image takes the first name on the bus the named disks use: sda, nvme0n1, vda.
        let named = placed.map(\.disk).filter { $0.bus != .virtio || $0.slot > 0 }
        let imageBus: GuestMachine.Bus = named.contains { $0.bus == .scsi } ? .scsi
            : named.contains { $0.bus == .nvme } && !named.contains { $0.bus == .nvme && $0.slot == 0 } ? .nvme : .virtio
        let tools = Tools(environment: ["LC_ALL": "C"], scratch: folder)
        for (volume, disk, _) in placed {
            try tools.truncate(disk.file, to: volume.size.bytes)
            let path = disk.file.path
            switch volume.fileSystem {
            case .xfs: try tools.run("/usr/sbin/mkfs.xfs", ["-q", "-L", volume.name, path])
            case .btrfs: try tools.run("/usr/bin/mkfs.btrfs", ["-q", "-L", volume.name, path])
            case .vfat: try tools.run("/usr/sbin/mkfs.vfat", ["-n", volume.name, path])
            case .swap: try tools.run("/usr/sbin/mkswap", ["-L", volume.name, path])
            case .ext4: try tools.run("/usr/sbin/mke2fs", ["-q", "-F", "-t", "ext4", "-L", volume.name, path])
            }
        }
        // Device-named disks first, in the order of their names; label-found virtio disks last
        // (a virtio device name then follows the image and the named ones).
        return (imageBus, placed.sorted { $0.order < $1.order }.map(\.disk))
    }

    /// The bus and the position on it that give a disk the name `device`:
    /// `/dev/sdb` is SCSI target 1, `/dev/vdc` the third virtio disk, `/dev/nvme1n1` the second NVMe.
    /// `nil` for a name no bus gives (`/dev/sda`, `/dev/md0`, `/dev/disk/by-id/…`).
    static func standIn(for device: String) -> (GuestMachine.Bus, Int)? {
        let name = device.hasPrefix("/dev/") ? String(device.dropFirst(5)) : device
        let letters = "abcdefghijklmnopqrstuvwxyz"
        if name.count == 3, name.hasPrefix("sd") || name.hasPrefix("vd"),
           let position = letters.firstIndex(of: name.last!).map({ letters.distance(from: letters.startIndex, to: $0) }),
           position >= 1 {
            return (name.hasPrefix("sd") ? .scsi : .virtio, position)
        }
        if name.hasPrefix("nvme"), name.hasSuffix("n1"), let number = Int(name.dropFirst(4).dropLast(2)), number >= 0, number < 8 {
            return (.nvme, number)
        }
        return nil
    }

    /// A kernel from the image's package layer, for the KVM probe.
    private func layerKernel(of entry: ImageEntry) -> URL? {
        guard let layer = entry.inputs().first(where: { $0.contains("-rootfs-") }) else { return nil }
        let boot = store.root.appendingPathComponent("\(layer)/tree/boot")
        let kernel = ((try? FileManager.default.contentsOfDirectory(atPath: boot.path)) ?? []).sorted().last { $0.hasPrefix("vmlinuz-") }
        return kernel.map { boot.appendingPathComponent($0) }
    }

    private func verify(_ image: URL, against recorded: DiskDigest, when: String) throws {
        let actual = try DiskDigest.of(image)
        guard actual == recorded else {
            throw BuildEnvironmentError("the store image \(image.path) does not match its digest \(when) (\(actual), recorded \(recorded)): the store is damaged; remove the entry and build again")
        }
    }
}
