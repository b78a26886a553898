import Foundation
import ImagecCore

/// A scratch folder in memory (`/dev/shm`) for work that writes many small files before
/// they are copied elsewhere. Installing packages there is a fifth faster than on a disk:
/// dpkg and maintainer scripts sync files, which costs nothing on tmpfs. When memory is short
/// the folder is made under `fallback` instead.
struct MemoryScratch {
    let url: URL

    /// A fresh folder `imagec-<pid>-<name>-<random>` in `/dev/shm` (one per build, however many
    /// a process runs at once) if it and the available memory both hold `bytes`, else `fallback/<name>`.
    init(_ name: String, needing bytes: UInt64, fallback: URL) throws {
        Self.removeAbandoned()
        let memory = URL(fileURLWithPath: "/dev/shm/imagec-\(getpid())-\(name)-\(UUID().uuidString.prefix(8))")
        url = Self.room(at: "/dev/shm") >= bytes && Self.availableMemory() >= bytes
            ? memory : fallback.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: url)
        Interruption.removeOnInterrupt(url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
        Interruption.forget(url)
    }

    /// Whether the folder is on another file system than `other` (a rename cannot move it there).
    func isOnOtherFileSystem(than other: URL) -> Bool {
        var mine = stat(), theirs = stat()
        return stat(url.path, &mine) != 0 || stat(other.path, &theirs) != 0 || mine.st_dev != theirs.st_dev
    }

    private static func room(at path: String) -> UInt64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return 0 }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize)
    }

    /// `MemAvailable` from `/proc/meminfo`: tmpfs pages beyond it would push the build into swap.
    private static func availableMemory() -> UInt64 {
        let text = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("MemAvailable:") }
        let kibibytes = line?.split(separator: " ").dropFirst().first.flatMap { UInt64($0) } ?? 0
        return kibibytes * 1024
    }

    /// Folders of imagec processes that were killed before they could remove them.
    private static func removeAbandoned() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? [] where name.hasPrefix("imagec-") {
            let pid = name.dropFirst(7).prefix { $0.isNumber }
            guard let pid = Int32(pid), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: "/dev/shm/\(name)")
        }
    }
}
