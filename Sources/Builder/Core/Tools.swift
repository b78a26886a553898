import Foundation

/// Runs the image tools with a fixed environment, failing with their output.
public struct Tools {
    public var environment: [String: String]
    public var scratch: URL

    public init(environment: [String: String], scratch: URL) {
        self.environment = environment
        self.scratch = scratch
    }

    public func run(_ executable: String, _ arguments: [String], extra: [String: String] = [:]) throws {
        _ = try output(executable, arguments, extra: extra)
    }

    public func output(_ executable: String, _ arguments: [String], extra: [String: String] = [:]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            let package = Self.packages[URL(fileURLWithPath: executable).lastPathComponent] ?? "the package providing it"
            throw BuildEnvironmentError("\(executable) is missing: install the Debian package '\(package)' (scripts/setup installs everything)")
        }
        let result = try Command(executable: executable, arguments: arguments, environment: environment.merging(extra) { $1 })
            .run(timeout: 1800, outputFile: scratch.appendingPathComponent("tool-output.txt"))
        guard result.status == 0 else { throw ToolError(([executable] + arguments).joined(separator: " "), result) }
        return result.output
    }

    /// The Debian package of each tool imagec runs.
    public static let packages = [
        "mke2fs": "e2fsprogs", "debugfs": "e2fsprogs", "dumpe2fs": "e2fsprogs", "e2fsck": "e2fsprogs", "tune2fs": "e2fsprogs", "tar": "tar", "mkswap": "util-linux",
        "grub-mkimage": "grub-common", "mformat": "mtools", "mmd": "mtools", "mcopy": "mtools", "sfdisk": "fdisk",
        "mmdebstrap": "mmdebstrap", "mkfs.xfs": "xfsprogs", "mkfs.btrfs": "btrfs-progs", "mkfs.vfat": "dosfstools", "apt-ftparchive": "apt-utils", "qemu-img": "qemu-utils", "systemctl": "systemd",
        "bwrap": "bubblewrap",
    ]

    /// Creates the file if needed and sets its size.
    public func truncate(_ file: URL, to size: UInt64) throws {
        if !FileManager.default.fileExists(atPath: file.path) { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        guard Foundation.truncate(file.path, off_t(size)) == 0 else {
            throw BuildEnvironmentError("cannot size \(file.path): \(String(cString: strerror(errno)))")
        }
    }
}
