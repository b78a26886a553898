import BootTest
import Foundation

/// Boots a disk image in QEMU on a throw-away overlay (`-snapshot`) and watches the serial
/// console for a line, with a time limit. TCG unless `IMAGEC_ACCEL` says otherwise: /dev/kvm
/// may exist and still hang. The time limit is for a loaded machine (the suite's three test
/// processes): bigmem2 took over 300 s to reach its login prompt beside them.
struct BootProbe {
    enum Firmware: String, CaseIterable { case bios, uefi }

    struct Outcome {
        var reached: Bool
        var seconds: Double
        var console: String
    }

    static func boot(
        _ image: URL, format: String = "raw", firmware: Firmware, until expected: String, timeout: Double = 900
    ) throws -> Outcome {
        var arguments = ["-drive", "file=\(image.path),format=\(format),if=virtio"]
        if firmware == .uefi { arguments += ["-bios", "/usr/share/ovmf/OVMF.fd"] }
        return try run(arguments, memory: 2048, until: expected, timeout: timeout)
    }

    /// Boots a kernel and its initramfs, with no disk, until `expected` shows on the console.
    static func boot(kernel: URL, initramfs: URL, arguments: String, until expected: String, timeout: Double = 600) throws -> Outcome {
        try run(["-kernel", kernel.path, "-initrd", initramfs.path, "-append", arguments], memory: 3072, until: expected, timeout: timeout)
    }

    private static func run(_ machine: [String], memory: Int, until expected: String, timeout: Double) throws -> Outcome {
        let console = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-console-\(UUID().uuidString).txt")
        FileManager.default.createFile(atPath: console.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: console) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-system-x86_64")
        process.arguments = [
            "-accel", ProcessInfo.processInfo.environment["IMAGEC_ACCEL"] ?? "tcg", "-m", String(memory), "-smp", "2",
            "-nographic", "-snapshot", "-no-reboot",
            "-netdev", "user,id=n0,restrict=on", "-device", "virtio-net-pci,netdev=n0",
        ] + machine
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: console)
        process.standardError = process.standardOutput
        let accelerator = Accelerator(rawValue: ProcessInfo.processInfo.environment["IMAGEC_ACCEL"] ?? "tcg") ?? .tcg
        let slot = try GuestSlot.take(for: accelerator, progress: .silent)
        defer { slot?.release() }
        let started = Date()
        try process.start()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        }
        while Date().timeIntervalSince(started) < timeout, process.isRunning {
            let text = String(decoding: (try? Data(contentsOf: console)) ?? Data(), as: UTF8.self)
            if text.contains(expected) { return Outcome(reached: true, seconds: Date().timeIntervalSince(started), console: text) }
            Thread.sleep(forTimeInterval: 1)
        }
        let text = String(decoding: (try? Data(contentsOf: console)) ?? Data(), as: UTF8.self)
        return Outcome(reached: false, seconds: Date().timeIntervalSince(started), console: String(text.suffix(4000)))
    }
}
