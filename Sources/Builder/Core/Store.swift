import Foundation

/// The local content-addressed store: immutable entries named by what they were made from.
///
/// An entry is made in a temporary folder and renamed into place once complete, so an
/// interrupted build (even by SIGKILL) leaves no partial entry under a final name. Builds of
/// the same entry are serialised by a lock file, so two of them at once do not corrupt each
/// other: the second finds the first's result.
public struct Store: Sendable {
    public var root: URL

    public init(root: URL) { self.root = root }

    /// `$IMAGEC_STORE`, else `/var/lib/imagec/store`.
    public static var defaultRoot: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["IMAGEC_STORE"] ?? "/var/lib/imagec/store")
    }

    /// The complete entry with this name, if there is one.
    public func entry(_ name: String) -> URL? {
        let url = root.appendingPathComponent(name, isDirectory: true)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// Returns the entry `name`, making it with `make` if the store lacks it. `make` fills the
    /// folder it is given; the folder becomes the entry, read-only, when `make` returns.
    public func entry(_ name: String, make: (URL) throws -> Void) throws -> URL {
        precondition(!name.contains("/") && !name.hasPrefix("."), "store entry names are plain file names")
        if let existing = entry(name) { return existing }
        try FileManager.default.createDirectory(at: root.appendingPathComponent(".locks"), withIntermediateDirectories: true)
        let lock = try FileLock(root.appendingPathComponent(".locks/\(name).lock"))
        defer { lock.unlock() }
        if let existing = entry(name) { return existing }  // made while we waited
        removeAbandonedTemporaries()

        let temporary = root.appendingPathComponent(".tmp-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: temporary)
        Interruption.removeOnInterrupt(temporary)
        defer { Interruption.forget(temporary) }
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: false)
        do {
            try make(temporary)
            try Self.makeReadOnly(temporary)
            let final = root.appendingPathComponent(name, isDirectory: true)
            guard rename(temporary.path, final.path) == 0 else {
                throw BuildEnvironmentError("cannot move \(temporary.path) to \(final.path): \(String(cString: strerror(errno)))")
            }
            return final
        } catch {
            try? Self.makeWritable(temporary)
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// Temporary folders of builds whose process is gone (killed before it could clean up).
    func removeAbandonedTemporaries() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [] where name.hasPrefix(".tmp-") {
            let pid = name.dropFirst(5).prefix { $0.isNumber }
            guard let pid = Int32(pid), kill(pid, 0) != 0, errno == ESRCH else { continue }
            let url = root.appendingPathComponent(name)
            try? Self.makeWritable(url)
            try? FileManager.default.removeItem(at: url)
        }
    }

    /// Records `entry` as the most recent build of `hostName`: a root for garbage collection.
    public func recordRoot(_ entry: URL, for hostName: String) throws {
        let folder = root.appendingPathComponent(".roots")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try (entry.lastPathComponent + "\n").write(to: folder.appendingPathComponent(hostName), atomically: true, encoding: .utf8)
    }

    /// Removes an entry (for garbage collection).
    public func remove(_ name: String) throws {
        let url = root.appendingPathComponent(name)
        try Self.makeWritable(url)
        try FileManager.default.removeItem(at: url)
    }

    private static func makeReadOnly(_ folder: URL) throws { try setWritable(folder, false) }
    private static func makeWritable(_ folder: URL) throws { try setWritable(folder, true) }

    /// Seals or unseals an entry: the folder and the files directly in it. Folders inside are
    /// left alone: a package layer's `tree/` keeps the exact modes the image's files have.
    private static func setWritable(_ folder: URL, _ writable: Bool) throws {
        let children = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
        for url in [folder] + children {
            var info = stat()
            guard lstat(url.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG || url == folder else { continue }
            let mode = writable ? info.st_mode | S_IWUSR : info.st_mode & ~(S_IWUSR | S_IWGRP | S_IWOTH)
            chmod(url.path, mode & 0o7777)
        }
    }
}

/// An exclusive advisory lock on a file, held until `unlock()` or the process ends.
struct FileLock {
    let descriptor: Int32

    init(_ url: URL) throws {
        descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw BuildEnvironmentError("cannot open lock \(url.path): \(String(cString: strerror(errno)))") }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw BuildEnvironmentError("cannot lock \(url.path): \(String(cString: strerror(errno)))") }
        }
    }

    func unlock() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
