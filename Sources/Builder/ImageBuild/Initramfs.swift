import CArchive
import CLibraryLoader
import Foundation
import ImagecCore

/// A configured tree as an initramfs: a newc cpio archive, compressed with zstd, written with
/// libarchive. The same tree gives the same bytes: entries in name order, every time the
/// build's `SOURCE_DATE_EPOCH`, inode numbers counted from 1, no device numbers, every file
/// its own copy (hard links are not kept). `/boot` stays out (the kernel is beside the
/// archive), and `/init`, where the kernel starts, is systemd.
enum Initramfs {
    /// Writes `tree` to `file`.
    static func write(_ tree: URL, to file: URL, time: Int) throws {
        if let error = imagec_load_archive() {
            throw BuildEnvironmentError("cannot load libarchive: \(String(cString: error)) (install libarchive13)")
        }
        guard let archive = archive_write_new() else { throw BuildEnvironmentError("libarchive cannot make an archive") }
        defer { archive_write_free(archive) }
        try check(archive, archive_write_set_format_cpio_newc(archive), "cannot write \(file.path)")
        try check(archive, archive_write_add_filter_zstd(archive), "cannot compress \(file.path) with zstd")
        try check(archive, archive_write_open_filename(archive, file.path), "cannot write \(file.path)")
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var inode: Int64 = 0

        func header(_ path: String, _ info: stat, symlink: String? = nil) throws {
            let entry = archive_entry_new()
            defer { archive_entry_free(entry) }
            var info = info
            archive_entry_copy_stat(entry, &info)
            archive_entry_set_pathname(entry, path)
            archive_entry_set_mtime(entry, time_t(time), 0)
            archive_entry_unset_atime(entry)
            archive_entry_unset_ctime(entry)
            archive_entry_unset_birthtime(entry)
            inode += 1
            archive_entry_set_ino64(entry, inode)
            archive_entry_set_dev(entry, 0)
            archive_entry_set_nlink(entry, info.st_mode & S_IFMT == S_IFDIR ? 2 : 1)
            if let symlink {
                archive_entry_set_symlink(entry, symlink)
                archive_entry_set_size(entry, 0)
            }
            try check(archive, archive_write_header(archive, entry), "cannot archive \(path)")
        }

        func add(_ relative: String) throws {
            let path = relative.isEmpty ? tree.path : tree.path + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { throw BuildEnvironmentError("cannot read \(path): \(String(cString: strerror(errno)))") }
            let type = info.st_mode & S_IFMT
            if relative.isEmpty {
                // The kernel starts /init: systemd, the system's init.
                var link = info
                link.st_mode = S_IFLNK | 0o777
                try header("init", link, symlink: "/lib/systemd/systemd")
            } else {
                try header(relative, info, symlink: type == S_IFLNK ? try FileManager.default.destinationOfSymbolicLink(atPath: path) : nil)
                if type == S_IFREG { try copy(path, size: Int(info.st_size), into: archive) }
            }
            guard type == S_IFDIR, relative != "boot" else { return }
            let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for name in names where !(relative.isEmpty && name == "init") {
                try add(relative.isEmpty ? name : relative + "/" + name)
            }
        }

        func copy(_ path: String, size: Int, into archive: OpaquePointer) throws {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw BuildEnvironmentError("cannot read \(path): \(String(cString: strerror(errno)))") }
            defer { close(descriptor) }
            var left = size
            while left > 0 {
                let count = read(descriptor, buffer.baseAddress, min(buffer.count, left))
                guard count > 0 else { throw BuildEnvironmentError("cannot read \(path): it ended early") }
                guard archive_write_data(archive, buffer.baseAddress, count) == count else {
                    throw BuildEnvironmentError("cannot archive \(path): \(String(cString: archive_error_string(archive)))")
                }
                left -= count
            }
        }

        try add("")
        try check(archive, archive_write_close(archive), "cannot write \(file.path)")
    }

    /// The kernel image in the tree's `/boot`: the only `vmlinuz-*` there.
    static func kernel(in tree: URL) throws -> URL {
        let boot = tree.appendingPathComponent("boot")
        let kernels = ((try? FileManager.default.contentsOfDirectory(atPath: boot.path)) ?? []).filter { $0.hasPrefix("vmlinuz-") }.sorted()
        guard kernels.count == 1 else {
            throw BuildEnvironmentError("an initramfs system needs one kernel in /boot; \(boot.path) has \(kernels.isEmpty ? "none" : kernels.joined(separator: ", "))")
        }
        return boot.appendingPathComponent(kernels[0])
    }

    private static func check(_ archive: OpaquePointer, _ status: Int32, _ message: String) throws {
        guard status >= ARCHIVE_OK else {
            throw BuildEnvironmentError("\(message): \(archive_error_string(archive).map { String(cString: $0) } ?? "libarchive error \(status)")")
        }
    }
}
