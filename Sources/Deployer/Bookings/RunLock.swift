import Foundation

/// Keeps two runs of the nightly job from running at once: an exclusive `flock` on a file
/// beside the night record, held until the process ends (a killed run frees it at once).
public final class RunLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock at `path`, or throws saying which process holds it.
    public init(path: String) throws {
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw BookingsError("cannot open the lock \(path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            throw BookingsError("another imagec bookings run\(holder.isEmpty ? "" : " (process \(holder))") holds \(path): wait for it to end", kind: .refused)
        }
        ftruncate(descriptor, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(descriptor, $0, strlen($0)) }
    }

    deinit { close(descriptor) }
}
