import Foundation
import ImagecCore

/// Explains how two images of the same build differ: the first partition whose bytes differ
/// and, for a root file system, the first file. Used by `imagec build --check`.
struct ImageComparison {
    let first: URL
    let second: URL
    let scratch: URL

    struct Partition { var name: String, start: Int, sectors: Int }

    /// `nil` when the images are identical; otherwise a description of the first difference.
    func difference() throws -> String? {
        guard try DiskDigest.of(first) != DiskDigest.of(second) else { return nil }
        let partitions = try table(of: first)
        guard partitions.count == (try table(of: second)).count else { return "the partition tables differ" }
        for partition in partitions {
            if try slice(of: first, partition) != slice(of: second, partition) {
                guard partition.name == "root" else { return "partition '\(partition.name)' differs" }
                return "partition 'root' differs" + ((try firstDifferingFile(partition)).map { ": \($0)" } ?? " (in file system metadata)")
            }
        }
        return "the partition table or the space between partitions differs"
    }

    private func table(of image: URL) throws -> [Partition] {
        let output = try Tools(environment: ["LC_ALL": "C"], scratch: scratch).output("/usr/sbin/sfdisk", ["-d", image.path])
        return output.split(separator: "\n").compactMap { line in
            guard let match = line.firstMatch(of: /start=\s*(\d+), size=\s*(\d+),.*name="([^"]*)"/) else { return nil }
            return Partition(name: String(match.3), start: Int(match.1)!, sectors: Int(match.2)!)
        }
    }

    private func slice(of image: URL, _ partition: Partition) throws -> String {
        let handle = try FileHandle(forReadingFrom: image)
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(partition.start * 512))
        var hasher = CryptoHasher()
        var remaining = partition.sectors * 512
        while remaining > 0, let chunk = try handle.read(upToCount: min(remaining, 8 << 20)), !chunk.isEmpty {
            hasher.update(chunk)
            remaining -= chunk.count
        }
        return hasher.finalize()
    }

    /// Copies both root file systems out with debugfs and compares them file by file.
    private func firstDifferingFile(_ partition: Partition) throws -> String? {
        let tools = Tools(environment: ["LC_ALL": "C"], scratch: scratch)
        var folders: [URL] = []
        for (index, image) in [first, second].enumerated() {
            let folder = scratch.appendingPathComponent("compare\(index)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try tools.run("/usr/sbin/debugfs", ["-R", "rdump / \(folder.path)", "\(image.path)?offset=\(partition.start * 512)"])
            folders.append(folder)
        }
        let result = try Command(executable: "/usr/bin/diff", arguments: ["-rq", "--no-dereference", folders[0].path, folders[1].path])
            .run(timeout: 600, outputFile: scratch.appendingPathComponent("diff.txt"))
        guard let line = result.output.split(separator: "\n").first else { return nil }
        return line.replacingOccurrences(of: folders[0].path, with: "").replacingOccurrences(of: folders[1].path, with: "")
    }
}
