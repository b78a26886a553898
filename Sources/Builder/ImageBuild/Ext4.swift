import Foundation
import ImagecCore
import ImageDSL

/// Makes and edits ext4 file systems in files, without mounting them: `mke2fs -d` from a
/// folder, `debugfs` to replay a `TreeDelta`, `tune2fs` to give a copy its own UUID. Every
/// inode's times are set to `time`, so the bytes depend on nothing but the inputs.
struct Ext4 {
    let tools: Tools
    let scratch: URL
    let time: Int

    /// A file system of `size` at byte `offset` of `image`, holding `tree` if given, and then
    /// `adding` files (each at its path, owned by root, mode 0644, with its own modification
    /// time). Its UUID is also its directory hash seed; `metadata_csum_seed` lets `setUUID`
    /// change the UUID later without rewriting every checksum.
    func make(_ image: URL, offset: Int = 0, label: String, uuid: String, size: ByteCount, from tree: URL?,
              adding files: [(source: URL, path: String)] = []) throws {
        let configuration = scratch.appendingPathComponent("mke2fs.conf")
        // A pinned configuration, so the host's defaults cannot change the result.
        try """
            [defaults]
            \tbase_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
            \tdefault_mntopts = acl,user_xattr
            \tenable_periodic_fsck = 0
            \tblocksize = 4096
            \tinode_size = 256
            \tinode_ratio = 16384
            [fs_types]
            \text4 = {
            \t\tfeatures = has_journal,extent,huge_file,flex_bg,metadata_csum,metadata_csum_seed,64bit,dir_nlink,extra_isize
            \t}

            """.write(to: configuration, atomically: true, encoding: .utf8)
        try tools.truncate(image, to: UInt64(offset) + size.bytes)
        var arguments = ["-q", "-F", "-t", "ext4", "-L", label, "-U", uuid,
                         "-E", "offset=\(offset),hash_seed=\(uuid),root_owner=0:0,lazy_itable_init=0"]
        if let tree { arguments += ["-d", tree.path] }
        try tools.run("/usr/sbin/mke2fs", arguments + [image.path, "\(size.bytes / 1024)k"], extra: ["MKE2FS_CONFIG": configuration.path])
        let device = "\(image.path)?offset=\(offset)"
        guard let tree else { return }
        if !files.isEmpty {
            var commands = ""
            for (source, path) in files {
                let modified = try FileManager.default.attributesOfItem(atPath: source.path)[.modificationDate] as? Date ?? Date()
                let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
                let folderModified = try FileManager.default.attributesOfItem(atPath: tree.path + folder)[.modificationDate] as? Date ?? Date()
                commands += "write \(Self.quoted(source.path)) \(Self.quoted(path))\n"
                    + "sif \(Self.quoted(path)) mode 0100644\nsif \(Self.quoted(path)) uid 0\nsif \(Self.quoted(path)) gid 0\n"
                    + "sif \(Self.quoted(path)) mtime @\(Int(modified.timeIntervalSince1970))\n"
                    + "sif \(Self.quoted(path)) crtime @\(time)\n"
                    // Adding a name may stamp its folder: the folder keeps the tree's time.
                    + "sif \(Self.quoted(folder)) mtime @\(Int(folderModified.timeIntervalSince1970))\n"
            }
            try debugfs(commands, on: device)
        }
        // mke2fs copies each source file's atime and ctime (the unpack time): set them all.
        // It also counts what it wrote (the superblock's lifetime writes), which depends on how
        // the source files are laid out (a run of zeros stored as a hole or not), not on what
        // they hold: reset, and copied to every backup superblock by tune2fs.
        let groups = try tools.output("/usr/sbin/dumpe2fs", [device])
        var perGroup = 0, group = 0
        var commands = "ssv kbytes_written 0\n"
        for line in groups.split(separator: "\n") {
            if line.hasPrefix("Inodes per group:") { perGroup = Int(line.split(separator: " ").last!)! }
            if line.hasPrefix("Group "), let number = Int(line.dropFirst(6).prefix { $0.isNumber }) { group = number }
            guard line.hasPrefix("  Free inodes: ") else { continue }
            var free = Set<Int>()
            for range in line.dropFirst(15).split(separator: ",") {
                let bounds = range.trimmingCharacters(in: .whitespaces).split(separator: "-").compactMap { Int($0) }
                if let low = bounds.first { free.formUnion(low...(bounds.last ?? low)) }
            }
            for inode in (group * perGroup + 1)...((group + 1) * perGroup) where !free.contains(inode) {
                commands += "sif <\(inode)> atime @\(time)\nsif <\(inode)> ctime @\(time)\n"
            }
        }
        try debugfs(commands, on: device)
        try tools.run("/usr/sbin/tune2fs", ["-e", "continue", device])
        try tools.run("/usr/sbin/e2fsck", ["-fn", device])
    }

    /// Replays `delta` onto the file system at byte `offset` of `disk`, gives it `uuid`, and checks it.
    /// - Returns: the byte ranges of `disk` that may have changed (from the tools' undo files).
    @discardableResult
    func apply(_ delta: TreeDelta, to disk: URL, offset: Int, uuid: String) throws -> [Range<Int>] {
        let device = "\(disk.path)?offset=\(offset)"
        let undo = [UndoFile(url: scratch.appendingPathComponent("debugfs.undo")), UndoFile(url: scratch.appendingPathComponent("tune2fs.undo"))]
        for file in undo { try? FileManager.default.removeItem(at: file.url) }
        // The lifetime writes reset, as in `make` (tune2fs copies them to the backups).
        try debugfs("ssv kbytes_written 0\n" + delta.script, on: device, undo: undo[0].url)
        try tools.run("/usr/sbin/tune2fs", ["-z", undo[1].url.path, "-U", uuid, device])
        try tools.run("/usr/sbin/e2fsck", ["-fn", device])
        return try undo.flatMap { try $0.writtenRanges() }.map { ($0.lowerBound + offset)..<($0.upperBound + offset) }
    }

    /// The file system ran out of space while the delta was replayed.
    struct Full: Error { var message: String }

    /// A path as debugfs reads it: double-quoted, a quote inside doubled.
    private static func quoted(_ path: String) -> String { "\"" + path.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// Runs a debugfs script. debugfs reports a failed command on standard error but still
    /// exits 0, so only its standard error is kept, and any line there but its banner fails.
    private func debugfs(_ commands: String, on device: String, undo: URL? = nil) throws {
        let commandFile = scratch.appendingPathComponent("debugfs.txt")
        try commands.write(to: commandFile, atomically: true, encoding: .utf8)
        let errors = try tools.output("/bin/sh", ["-c", #"/usr/sbin/debugfs -w ${3:+-z "$3"} -f "$1" "$2" 2>&1 >/dev/null"#,
                                                  "sh", commandFile.path, device, undo?.path ?? ""])
        let problems = errors.split(separator: "\n").filter { !$0.hasPrefix("debugfs ") }
        guard problems.isEmpty else {
            let message = problems.prefix(10).joined(separator: "\n")
            if problems.contains(where: { $0.contains("Could not allocate") || $0.contains("No free space") }) { throw Full(message: message) }
            throw BuildEnvironmentError("debugfs failed on \(device):\n\(message)")
        }
    }
}
