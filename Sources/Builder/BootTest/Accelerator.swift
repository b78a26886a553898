import Foundation
import ImagecCore

/// The QEMU accelerator a test boot uses: KVM where it works, TCG (emulation) otherwise.
///
/// `/dev/kvm` can exist and answer while every guest hangs before its kernel prints a line,
/// so KVM is probed for real: a kernel from the package layer is started under KVM with no
/// root file system and must panic and exit within 15 s. The answer is remembered for the
/// host's current boot. `$IMAGEC_ACCEL` (`kvm` or `tcg`) skips the probe.
public enum Accelerator: String, Codable, Sendable {
    case kvm, tcg

    /// The accelerator to use and why.
    static func choose(kernel: URL?, store: Store, scratch: URL) throws -> (Accelerator, String) {
        if let forced = ProcessInfo.processInfo.environment["IMAGEC_ACCEL"] {
            guard let accelerator = Accelerator(rawValue: forced) else {
                throw UsageError("IMAGEC_ACCEL is '\(forced)': set it to kvm or tcg, or unset it to let imagec probe KVM")
            }
            return (accelerator, "IMAGEC_ACCEL=\(forced)")
        }
        guard FileManager.default.isReadableFile(atPath: "/dev/kvm"), FileManager.default.isWritableFile(atPath: "/dev/kvm") else {
            return (.tcg, "no usable /dev/kvm")
        }
        let bootID = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let memory = store.root.appendingPathComponent(".accelerator")
        if let line = try? String(contentsOf: memory, encoding: .utf8), line.hasSuffix(" \(bootID)\n"),
           let accelerator = Accelerator(rawValue: String(line.prefix { $0 != " " }))
        {
            return (accelerator, accelerator == .kvm ? "KVM works (probed earlier since the host booted)"
                : "KVM hangs on this host (probed earlier since it booted)")
        }
        guard let kernel else { return (.tcg, "no kernel to probe KVM with") }
        let works = probe(kernel: kernel, scratch: scratch)
        try? "\(works ? "kvm" : "tcg") \(bootID)\n".write(to: memory, atomically: true, encoding: .utf8)
        return works ? (.kvm, "KVM works (probed)") : (.tcg, "KVM hangs on this host (a probe kernel did not run in 15 s)")
    }

    /// The accelerator for other VMs imagec starts (libguestfs's appliance, which edits
    /// disks at deployment), probing KVM with the host's own kernel if need be.
    public static func forAppliance(store: Store) throws -> (Accelerator, String) {
        let boot = (try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? []
        let kernel = boot.filter { $0.hasPrefix("vmlinuz-") }.sorted().last.map { URL(fileURLWithPath: "/boot/\($0)") }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-kvm-probe-\(getpid())")
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        return try choose(kernel: kernel, store: store, scratch: scratch)
    }

    /// Whether a kernel started under KVM panics (no root file system) and exits in time.
    private static func probe(kernel: URL, scratch: URL) -> Bool {
        let console = scratch.appendingPathComponent("kvm-probe.txt")
        let command = Command(executable: "/usr/bin/qemu-system-x86_64", arguments: [
            "-accel", "kvm", "-nodefaults", "-display", "none", "-m", "256", "-no-reboot",
            "-serial", "file:\(console.path)", "-kernel", kernel.path, "-append", "console=ttyS0 panic=-1",
        ])
        guard let result = try? command.run(timeout: 15, outputFile: scratch.appendingPathComponent("kvm-probe-output.txt")),
              !result.timedOut
        else { return false }
        let text = (try? String(contentsOf: console, encoding: .utf8)) ?? ""
        return text.contains("Kernel panic")
    }
}
