import Foundation
import ImagecCore

/// One of a few places for an emulated guest on this machine, shared by every imagec process.
///
/// Under TCG a guest keeps host cores busy from its first instruction: test boots side by side
/// (several `imagec test` at once, a CI job's parallel tests) slowed one another past their boot
/// timeouts. A boot therefore waits for a slot, and its timeout starts once it has one. A slot
/// is a lock file held with flock(2), so a process that dies frees its slot.
///
/// `$IMAGEC_GUESTS` sets how many guests may run at once; by default as many as there are
/// cores under TCG, and any number under KVM.
public final class GuestSlot: @unchecked Sendable {
    private var descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { release() }

    /// Waits for a free slot for a guest run with `accelerator`; `nil` when guests are not limited.
    public static func take(for accelerator: Accelerator, progress: ProgressReporter) throws -> GuestSlot? {
        guard let count = try limit(for: accelerator) else { return nil }
        let folder = lockFolder()
        if (try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)) != nil {
            chmod(folder.path, 0o1777)  // every user's imagec shares the slots
        }
        var waiting = false
        while true {
            for index in 0..<count {
                let path = folder.appendingPathComponent("guest-\(index).lock").path
                var descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
                if descriptor < 0 { descriptor = open(path, O_RDONLY | O_CLOEXEC) }
                guard descriptor >= 0 else {
                    throw BuildEnvironmentError("cannot open the guest slot \(path): \(String(cString: strerror(errno)))")
                }
                if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return GuestSlot(descriptor: descriptor) }
                close(descriptor)
            }
            if !waiting {
                waiting = true
                progress("waiting for one of the \(count) guest slots of this machine (\(accelerator.rawValue); IMAGEC_GUESTS sets how many)…")
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
    }

    /// Frees the slot (also done when the slot is released from memory or the process ends).
    public func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    static func limit(for accelerator: Accelerator) throws -> Int? {
        if let value = ProcessInfo.processInfo.environment["IMAGEC_GUESTS"] {
            guard let count = Int(value), count >= 0 else {
                throw UsageError("IMAGEC_GUESTS is '\(value)': set it to how many guests may run at once (0: any number)")
            }
            return count == 0 ? nil : count
        }
        return accelerator == .tcg ? max(1, ProcessInfo.processInfo.activeProcessorCount) : nil
    }

    /// `/run/lock` (machine-wide, emptied at boot) when it can be written, else the temporary folder.
    private static func lockFolder() -> URL {
        if let folder = ProcessInfo.processInfo.environment["IMAGEC_GUEST_SLOTS"] { return URL(fileURLWithPath: folder) }
        if access("/run/lock", W_OK) == 0 { return URL(fileURLWithPath: "/run/lock/imagec-guests") }
        return FileManager.default.temporaryDirectory.appendingPathComponent("imagec-guests")
    }
}
