import Foundation

/// Cleans up when imagec is interrupted (Ctrl-C, SIGTERM, SIGHUP): kills the programs it
/// started and removes the temporary folders it made, so nothing half-written is left behind.
public enum Interruption {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths: Set<String> = []
    nonisolated(unsafe) private static var processes: Set<Int32> = []

    /// The write end of the pipe the signal handler writes the signal's number to.
    nonisolated(unsafe) private static var signalPipe: Int32 = -1
    /// Held by whoever ends the process first: an interruption, or ``exit(_:)``.
    private static let ending = NSLock()

    /// Installs the handlers; the process then exits with 128 + the signal's number.
    ///
    /// A caught signal, not an ignored one: the programs imagec starts get back the default
    /// action at exec (an ignored signal would stay ignored in them). The handler only writes
    /// to a pipe; a thread reading it does the clean-up.
    public static func install() {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        signalPipe = ends[1]
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signalNumber in
                let interrupted = errno
                var byte = UInt8(truncatingIfNeeded: signalNumber)
                _ = write(Interruption.signalPipe, &byte, 1)
                errno = interrupted
            }
            action.sa_flags = SA_RESTART
            sigaction(signalNumber, &action, nil)
        }
        let reader = ends[0]
        Thread.detachNewThread {
            var byte: UInt8 = 0
            while read(reader, &byte, 1) != 1 { if errno != EINTR { return } }
            ending.lock()
            cleanUp()
            FileHandle.standardError.write(Data("\nimagec: interrupted; temporary files removed\n".utf8))
            Foundation.exit(128 + Int32(byte))
        }
    }

    /// Ends the process with `status`, unless an interruption is already ending it (then its
    /// clean-up finishes and the process exits with the interruption's status instead).
    public static func exit(_ status: Int32) -> Never {
        ending.lock()
        Foundation.exit(status)
    }

    /// Removes `url` if imagec is interrupted before ``forget(_:)``.
    public static func removeOnInterrupt(_ url: URL) { lock.withLock { _ = paths.insert(url.path) } }
    /// Kills `pid` if imagec is interrupted before ``forget(process:)``.
    public static func killOnInterrupt(_ pid: Int32) { lock.withLock { _ = processes.insert(pid) } }
    public static func forget(_ url: URL) { lock.withLock { _ = paths.remove(url.path) } }
    public static func forget(process pid: Int32) { lock.withLock { _ = processes.remove(pid) } }

    private static func cleanUp() {
        let (pids, folders) = lock.withLock { (processes, paths) }
        for pid in pids { killTree(pid) }
        for pid in pids { var status: Int32 = 0; waitpid(pid, &status, 0) }
        // A killed process may still be finishing a write: retry until each folder is gone.
        for folder in folders {
            for _ in 0..<40 where FileManager.default.fileExists(atPath: folder) {
                try? FileManager.default.removeItem(atPath: folder)
                if FileManager.default.fileExists(atPath: folder) { usleep(50_000) }
            }
        }
    }

    /// Kills `pid` and every process it started (the compiler driver starts frontends of its own).
    static func killTree(_ pid: Int32) {
        for child in descendants(of: pid).reversed() { kill(child, SIGKILL) }
        kill(pid, SIGKILL)
    }

    /// Waits until each of `pids` has exited (or only its exit status is left), for at most
    /// `seconds`: a killed process may take a moment to go, more on a busy machine.
    static func waitUntilGone(_ pids: [Int32], seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        func gone(_ pid: Int32) -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
            return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
        }
        var waiting = pids
        while true {
            waiting.removeAll(where: gone)
            if waiting.isEmpty || Date() > deadline { return }
            usleep(10_000)
        }
    }

    /// Every process below `pid`, parents before children (from /proc).
    static func descendants(of pid: Int32) -> [Int32] {
        var parents: [Int32: [Int32]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")")
            else { continue }
            // After "pid (name) ": state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { parents[parent, default: []].append(child) }
        }
        var result: [Int32] = []
        var queue = parents[pid] ?? []
        while !queue.isEmpty {
            let next = queue.removeFirst()
            result.append(next)
            queue += parents[next] ?? []
        }
        return result
    }
}
