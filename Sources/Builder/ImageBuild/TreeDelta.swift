import CArchive  // sys/xattr.h, which Glibc's Swift module lacks
import Foundation
import ImagecCore

/// What configuration changed in a root tree, as a `debugfs` script that makes the same
/// change in an ext4 image of the original tree.
///
/// Configuration wrote every change into an upper folder above the original (`ConfiguredTree`),
/// as overlayfs does: a new or replaced entry is there, a removed one is a whiteout, a folder
/// that replaced the original's is opaque. So the walk visits that folder alone, not the
/// whole tree. Entries are visited in byte order of their names and every inode the script
/// touches gets fixed times, so the same change always gives the same image bytes.
struct TreeDelta {
    let original: URL
    /// The upper folder.
    let changes: URL
    /// The time every created or touched inode gets (`SOURCE_DATE_EPOCH`).
    let time: Int

    private(set) var script = ""
    private(set) var changedEntries = 0

    /// Walks the changes and writes the script.
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

    /// Whether the upper folder `path` hides the original's folder of the same name.
    private func isOpaque(_ path: String) -> Bool {
        var value: UInt8 = 0
        return lgetxattr(changes.path + path, "trusted.overlay.opaque", &value, 1) == 1 && value == UInt8(ascii: "y")
    }

    /// Replays the changes inside the folder `path` ("" for the root), present in both trees.
    private mutating func compare(directory path: String) throws {
        let names = try names(changes, path)
        var changed = false
        // Removals first, then the rest, each in name order.
        var kept: [(String, Entry)] = []
        for name in names {
            guard let new = entry(changes, path + "/" + name) else { continue }
            if ConfiguredTree.isWhiteout(new.info) {
                try remove(path + "/" + name)
                changed = true
            } else {
                kept.append((name, new))
            }
        }
        for (name, new) in kept {
            let child = path + "/" + name
            guard let old = entry(original, child) else {
                try create(child, new)
                changed = true
                continue
            }
            if new.type == S_IFDIR && old.type == S_IFDIR && !isOpaque(child) {
                if new.info.st_mode != old.info.st_mode || new.info.st_uid != old.info.st_uid || new.info.st_gid != old.info.st_gid {
                    try setAttributes(child, new.info)
                }
                try compare(directory: child)
            } else {
                try remove(child)
                try create(child, new)
                changed = true
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
            for name in try names(changes, path) {
                if let child = entry(changes, path + "/" + name), !ConfiguredTree.isWhiteout(child.info) { try create(path + "/" + name, child) }
            }
        case S_IFREG:
            script += "write \(try quoted(changes.path + path)) \(try quoted(path))\n"
        case S_IFLNK:
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: changes.path + path)
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
