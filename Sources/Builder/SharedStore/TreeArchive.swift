import CArchive
import CLibraryLoader
import Foundation
import ImagecCore

/// A file tree (a package layer's `tree/`) as a tar archive (POSIX pax), written and read with
/// libarchive: every file type, owner, mode, time, hard link and extended attribute (file
/// capabilities) kept. The same tree gives the same bytes: entries in name order, no access or
/// change times, no user or group names.
enum TreeArchive {
    static func load() throws {
        if let error = imagec_load_archive() {
            throw BuildEnvironmentError("cannot load libarchive: \(String(cString: error)) (install libarchive13)")
        }
    }

    /// Writes the tree below `tree` to the archive `file`.
    static func write(_ tree: URL, to file: URL) throws {
        try load()
        guard let archive = archive_write_new() else { throw BuildEnvironmentError("libarchive cannot make an archive") }
        defer { archive_write_free(archive) }
        try check(archive, archive_write_set_format_pax_restricted(archive), "cannot write \(file.path)")
        try check(archive, archive_write_open_filename(archive, file.path), "cannot write \(file.path)")
        var firstPaths: [String: String] = [:]  // "device inode" of a file with several links → its first path
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }

        func add(_ relative: String) throws {
            let path = relative.isEmpty ? tree.path : tree.path + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { throw BuildEnvironmentError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if !relative.isEmpty {
                let entry = archive_entry_new()
                defer { archive_entry_free(entry) }
                archive_entry_copy_stat(entry, &info)
                archive_entry_set_pathname(entry, relative)
                archive_entry_unset_atime(entry)
                archive_entry_unset_ctime(entry)
                archive_entry_unset_birthtime(entry)
                let type = info.st_mode & S_IFMT
                var hardLink = false
                if type == S_IFLNK {
                    let target = try FileManager.default.destinationOfSymbolicLink(atPath: path)
                    archive_entry_set_symlink(entry, target)
                } else if type == S_IFREG, info.st_nlink > 1 {
                    let key = "\(info.st_dev) \(info.st_ino)"
                    if let first = firstPaths[key] {
                        archive_entry_set_hardlink(entry, first)
                        archive_entry_set_size(entry, 0)
                        hardLink = true
                    } else {
                        firstPaths[key] = relative
                    }
                }
                try addExtendedAttributes(of: path, to: entry)
                try check(archive, archive_write_header(archive, entry), "cannot archive \(path)")
                if type == S_IFREG, !hardLink { try copyContents(of: path, size: Int(info.st_size), into: archive, buffer: buffer) }
            }
            guard info.st_mode & S_IFMT == S_IFDIR else { return }
            let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for name in names { try add(relative.isEmpty ? name : relative + "/" + name) }
        }
        try add("")
        try check(archive, archive_write_close(archive), "cannot write \(file.path)")
    }

    /// Extracts the archive `file` into `tree` (made if missing), as root: owners, modes,
    /// times and extended attributes as archived; no path may leave `tree`.
    static func extract(_ file: URL, into tree: URL) throws {
        try load()
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        guard let archive = archive_read_new(), let disk = archive_write_disk_new() else {
            throw BuildEnvironmentError("libarchive cannot read an archive")
        }
        defer {
            archive_read_free(archive)
            archive_write_free(disk)
        }
        // Each path is made absolute below `tree` here, once checked to be relative.
        let options = ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR
            | ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS
        try check(disk, archive_write_disk_set_options(disk, options), "cannot extract into \(tree.path)")
        try check(archive, archive_read_support_format_tar(archive), "cannot read \(file.path)")
        try check(archive, archive_read_open_filename(archive, file.path, 1 << 20), "cannot read \(file.path)")
        var entry: OpaquePointer?
        while true {
            let next = archive_read_next_header(archive, &entry)
            if next == ARCHIVE_EOF { break }
            try check(archive, next, "cannot read \(file.path)")
            let path = String(cString: archive_entry_pathname(entry))
            let link = archive_entry_hardlink(entry).map { String(cString: $0) }
            for name in [path] + (link.map { [$0] } ?? []) where name.hasPrefix("/") || name.split(separator: "/").contains("..") {
                throw BuildEnvironmentError("\(file.path) holds a path outside its tree: \(name)")
            }
            archive_entry_set_pathname(entry, tree.path + "/" + path)
            if let link { archive_entry_set_hardlink(entry, tree.path + "/" + link) }
            // A file not restored exactly (a warning to libarchive) is an error here.
            guard archive_read_extract2(archive, entry, disk) == ARCHIVE_OK else {
                throw BuildEnvironmentError("cannot extract \(path) from \(file.path): \(archive_error_string(archive).map { String(cString: $0) } ?? "")")
            }
        }
        try check(disk, archive_write_close(disk), "cannot extract into \(tree.path)")
        archive_read_close(archive)
    }

    private static func addExtendedAttributes(of path: String, to entry: OpaquePointer?) throws {
        let size = llistxattr(path, nil, 0)
        guard size > 0 else { return }
        var names = [CChar](repeating: 0, count: size)
        let listed = llistxattr(path, &names, size)
        guard listed > 0 else { return }
        let all = names.prefix(listed).split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        for name in all.sorted() {
            let length = lgetxattr(path, name, nil, 0)
            guard length >= 0 else { continue }
            var value = [UInt8](repeating: 0, count: length)
            guard lgetxattr(path, name, &value, length) == length else { continue }
            archive_entry_xattr_add_entry(entry, name, value, length)
        }
    }

    private static func copyContents(of path: String, size: Int, into archive: OpaquePointer, buffer: UnsafeMutableRawBufferPointer) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BuildEnvironmentError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var done = 0
        while done < size {
            let count = read(descriptor, buffer.baseAddress, min(buffer.count, size - done))
            guard count > 0 else { throw BuildEnvironmentError("cannot read \(path): it ended early or changed") }
            guard archive_write_data(archive, buffer.baseAddress, count) == count else {
                throw BuildEnvironmentError("cannot archive \(path): \(String(cString: archive_error_string(archive)))")
            }
            done += count
        }
    }

    private static func check(_ archive: OpaquePointer, _ result: Int32, _ what: String) throws {
        guard result < ARCHIVE_WARN else { return }
        let reason = archive_error_string(archive).map { String(cString: $0) } ?? "error \(result)"
        throw BuildEnvironmentError("\(what): \(reason)")
    }
}
