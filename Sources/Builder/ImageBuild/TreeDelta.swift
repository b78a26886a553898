import Foundation
import ImagecCore

/// What configuration changed in a root tree, as a `debugfs` script that makes the same
/// change in an ext4 image of the original tree.
///
/// The configured tree starts as a hard-link copy of the original (`cp -al`), and every
/// change replaces a file rather than editing it, so an entry still sharing the original's
/// inode is unchanged and the walk compares inode numbers, not contents. Entries are visited
/// in byte order of their names and every inode the script touches gets fixed times, so the
/// same change always gives the same image bytes.
struct TreeDelta {
    let original: URL
    let configured: URL
    /// The time every created or touched inode gets (`SOURCE_DATE_EPOCH`); no file of the
    /// original is newer, so a shared inode modified later was edited through a hard link.
    let time: Int

    private(set) var script = ""
    private(set) var changedEntries = 0

    /// Walks both trees and writes the script.
    mutating func compute() throws {
        script = ""
        changedEntries = 0
        try compare(directory: "")
    }

    private struct Entry {
        var info: stat
        var type: mode_t { info.st_mode & S_IFMT }
    }

    private func entry(_ tree: URL, _ path: String) -> Entry? {
        var info = stat()
        return lstat(tree.path + path, &info) == 0 ? Entry(info: info) : nil
    }

    private func names(_ tree: URL, _ path: String) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: tree.path + (path.isEmpty ? "/" : path))
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Compares the directory `path` ("" for the root) of both trees; returns whether anything in it changed.
    private mutating func compare(directory path: String) throws {
        let before = Set(try names(original, path))
        let after = try names(configured, path)
        var changed = false
        for name in before.subtracting(after).sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            try remove(path + "/" + name)
            changed = true
        }
        for name in after {
            let child = path + "/" + name
            guard let new = entry(configured, child) else { continue }
            guard let old = before.contains(name) ? entry(original, child) : nil else {
                try create(child, new)
                changed = true
                continue
            }
            if new.type == S_IFDIR && old.type == S_IFDIR {
                if new.info.st_mode != old.info.st_mode || new.info.st_uid != old.info.st_uid || new.info.st_gid != old.info.st_gid {
                    try setAttributes(child, new.info)
                }
                try compare(directory: child)
            } else if new.type != old.type || new.info.st_ino != old.info.st_ino {
                try remove(child)
                try create(child, new)
                changed = true
            } else if new.type == S_IFREG && new.info.st_mtim.tv_sec > time {
                throw BuildEnvironmentError(
                    "\(child) of the package layer was changed in place through a hard link during configuration; "
                        + "configuration must replace files, not edit them (the root base is now damaged: remove "
                        + "\(original.deletingLastPathComponent().path) and build again)")
            }
        }
        // Adding or removing entries changed the directory's times: set them back.
        if changed { try setTimes(path.isEmpty ? "/" : path) }
    }

    private mutating func remove(_ path: String) throws {
        guard let old = entry(original, path) else { return }
        if old.type == S_IFDIR {
            for name in try names(original, path) { try remove(path + "/" + name) }
            script += "rmdir \(try quoted(path))\n"
        } else {
            script += "rm \(try quoted(path))\n"
        }
        changedEntries += 1
    }

    private mutating func create(_ path: String, _ new: Entry) throws {
        switch new.type {
        case S_IFDIR:
            script += "mkdir \(try quoted(path))\n"
            for name in try names(configured, path) {
                if let child = entry(configured, path + "/" + name) { try create(path + "/" + name, child) }
            }
        case S_IFREG:
            script += "write \(try quoted(configured.path + path)) \(try quoted(path))\n"
        case S_IFLNK:
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: configured.path + path)
            script += "symlink \(try quoted(path)) \(try quoted(target))\n"
        default:
            throw BuildEnvironmentError("configuration made \(path), which is neither a file, a folder nor a symbolic link")
        }
        changedEntries += 1
        try setAttributes(path, new.info)
    }

    private mutating func setAttributes(_ path: String, _ info: stat) throws {
        let quotedPath = try quoted(path)
        script += "sif \(quotedPath) mode 0\(String(info.st_mode, radix: 8))\n"
        script += "sif \(quotedPath) uid \(info.st_uid)\nsif \(quotedPath) gid \(info.st_gid)\n"
        try setTimes(path)
    }

    private mutating func setTimes(_ path: String) throws {
        let path = try quoted(path)
        for field in ["atime", "mtime", "ctime", "crtime"] { script += "sif \(path) \(field) @\(time)\n" }
    }

    /// debugfs reads double-quoted arguments; a quote inside is doubled.
    private func quoted(_ path: String) throws -> String {
        guard !path.contains("\n") else { throw BuildEnvironmentError("\(path): imagec cannot copy a name with a line break into an image") }
        return "\"" + path.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
