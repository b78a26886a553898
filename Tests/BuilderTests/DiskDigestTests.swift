import Foundation
import ImagecCore
import Testing

/// The disk digest against a reference written from its definition alone, in Python: every
/// block read as bytes, holes and all.
struct DiskDigestTests {
    /// `imagec-blocks-v1:<hex>` of a file, the plain way.
    static let reference = #"""
        import hashlib, os, sys
        size, block = os.path.getsize(sys.argv[1]), 65536
        outer = hashlib.sha256(b"imagec-blocks-v1\nsize %d\nblock %d\n" % (size, block))
        with open(sys.argv[1], "rb") as file:
            while data := file.read(block):
                outer.update(b"\0" if data.count(0) == len(data) else b"\1" + hashlib.sha256(data).digest())
        print("imagec-blocks-v1:" + outer.hexdigest())
        """#

    static func referenceDigest(of file: URL) throws -> String {
        try ImageBuilderTestSupport.output("/usr/bin/python3", ["-c", reference, file.path], standardError: false)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A sparse file of `size` bytes with `writes` (offset, bytes) in it.
    static func file(_ folder: URL, _ name: String, size: Int, _ writes: [(Int, [UInt8])]) throws -> URL {
        let url = folder.appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.truncate(atOffset: UInt64(size))
        for (offset, bytes) in writes {
            try handle.seek(toOffset: UInt64(offset))
            try handle.write(contentsOf: bytes)
        }
        return url
    }

    @Test func matchesTheReferenceAndTellsContentsApart() throws {
        let folder = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let block = DiskDigest.blockSize
        let data = (0..<(3 * block + 100)).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) }
        // Data across block boundaries, far apart, and in a short last block; 300 data blocks
        // so that every core takes a share.
        let many = (0..<300).map { (($0 * 5 + 40) * block + 17, [UInt8](repeating: UInt8($0 % 251 + 1), count: 1000)) }
        let size = 2000 * block + 12345
        let base = try Self.file(folder, "base", size: size, [(5, data), (size - 300, Array(data.prefix(300)))] + many)
        let digest = try DiskDigest.of(base)
        #expect(digest.description == (try Self.referenceDigest(of: base)))
        #expect(DiskDigest(digest.description) == digest && DiskDigest(digest.hex) == nil)

        // Zeros written where the file had a hole read the same: the same digest.
        let zeros = try Self.file(folder, "zeros", size: size, [(5, data), (size - 300, Array(data.prefix(300)))] + many
                                  + [(1700 * block, [UInt8](repeating: 0, count: 3 * block))])
        #expect(try DiskDigest.of(zeros) == digest)
        // One byte changed, the file one byte longer, a hole punched where data was: each differs.
        let changed = try Self.file(folder, "changed", size: size, [(5, data), (size - 300, Array(data.prefix(300)))] + many + [(2 * block + 9, [0xFF])])
        let longer = try Self.file(folder, "longer", size: size + 1, [(5, data), (size - 300, Array(data.prefix(300)))] + many)
        let fewer = try Self.file(folder, "fewer", size: size, [(5, data), (size - 300, Array(data.prefix(300)))] + many.dropLast())
        for other in [changed, longer, fewer] {
            let otherDigest = try DiskDigest.of(other)
            #expect(otherDigest != digest, "\(other.lastPathComponent)")
            #expect(otherDigest.description == (try Self.referenceDigest(of: other)), "\(other.lastPathComponent)")
        }
        // An empty file, and one that is only a hole.
        for (name, size) in [("empty", 0), ("hole", 10 * block + 1)] {
            let file = try Self.file(folder, name, size: size, [])
            #expect(try DiskDigest.of(file).description == (try Self.referenceDigest(of: file)), "\(name)")
        }
    }

    @Test func aMissingFileIsNamed() {
        #expect(throws: BuildEnvironmentError.self) { try DiskDigest.of(URL(fileURLWithPath: "/nonexistent/disk.raw")) }
    }
}
