import Crypto
import Foundation

/// The checksum of a sparse disk image that costs what its data costs: the SHA-256 of its size
/// and of each 64 KiB block's SHA-256 (a block of zeros, read or hole, is a marker instead), the
/// blocks hashed on every core. Two files have the same digest exactly when they read as the
/// same bytes, as with a plain SHA-256; but a 4 GiB image with 1 GiB of data takes a quarter of
/// the time on one core, where a plain SHA-256 must hash every zero of the holes.
///
/// Written as `imagec-blocks-v1:<hex>`, so that it is never taken for a plain SHA-256
/// (`sha256sum disk.raw` gives that one).
public struct DiskDigest: Hashable, Sendable, CustomStringConvertible {
    /// Bytes per block, the same as ``BlockIndex/defaultBlockSize``.
    public static let blockSize = BlockIndex.defaultBlockSize
    static let scheme = "imagec-blocks-v1"

    public var hex: String
    public var description: String { "\(Self.scheme):\(hex)" }

    public init(hex: String) { self.hex = hex }

    /// Reads `imagec-blocks-v1:<hex>`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0] == Self.scheme, parts[1].wholeMatch(of: /[0-9a-f]{64}/) != nil else { return nil }
        hex = String(parts[1])
    }

    /// The digest of `file`, reading only its data extents.
    public static func of(_ file: URL) throws -> DiskDigest {
        let size = try SparseFile.size(of: file)
        return combining(length: size, try blockHashes(of: file, within: 0..<size))
    }

    /// The digest of bytes whose blocks have these SHA-256 (nil for zeros): that of a file
    /// holding just those `length` bytes.
    static func combining(length: Int, _ blocks: [SHA256.Digest?]) -> DiskDigest {
        var outer = SHA256()
        outer.update(data: Data("\(scheme)\nsize \(length)\nblock \(blockSize)\n".utf8))
        var entry = [UInt8](repeating: 0, count: 33)
        for hash in blocks {
            if let hash {
                entry[0] = 1
                hash.withUnsafeBytes { entry.replaceSubrange(1..<33, with: $0) }
                outer.update(data: entry)
            } else {
                outer.update(data: [0])
            }
        }
        return DiskDigest(hex: hex(outer.finalize()))
    }

    static func hex(_ digest: SHA256.Digest) -> String { digest.map { String(format: "%02x", $0) }.joined() }

    /// The SHA-256 of each block of `part` of `file` (nil for zeros; blocks counted from the
    /// part's start, the last may be shorter), hashed by a thread per core, each taking an equal
    /// share of the blocks that hold data. Holes are not read.
    static func blockHashes(of file: URL, within part: Range<Int>) throws -> [SHA256.Digest?] {
        let input = Glibc.open(file.path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BuildEnvironmentError("cannot open \(file.path): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let count = (part.count + blockSize - 1) / blockSize
        let dataBlocks = blocks(overlapping: try SparseFile.dataRanges(input, path: file), within: part)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, dataBlocks.count / 64))
        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<SHA256.Digest?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let failure = FailureBox()
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let share = dataBlocks[(dataBlocks.count * worker / workers)..<(dataBlocks.count * (worker + 1) / workers)]
            let run = 64  // blocks read at once: 4 MiB
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: run * blockSize, alignment: 4096)
            defer { buffer.deallocate() }
            var index = share.startIndex
            while index < share.endIndex, !failure.isSet {
                // A run of consecutive blocks.
                var end = index + 1
                while end < share.endIndex, end - index < run, share[end] == share[end - 1] + 1 { end += 1 }
                let start = part.lowerBound + share[index] * blockSize
                let length = min(part.lowerBound + (share[end - 1] + 1) * blockSize, part.upperBound) - start
                do {
                    try SparseFile.read(input, into: buffer, count: length, at: start, path: file)
                } catch {
                    failure.set(error)
                    return
                }
                for (offset, block) in share[index..<end].enumerated() {
                    let bytes = UnsafeRawBufferPointer(rebasing: buffer[(offset * blockSize)..<min((offset + 1) * blockSize, length)])
                    guard !SparseFile.isZero(bytes) else { continue }
                    var hasher = SHA256()
                    hasher.update(bufferPointer: bytes)
                    results[block] = hasher.finalize()
                }
                index = end
            }
        }
        if let error = failure.error { throw error }
        return Array(results)
    }

    /// The blocks of `part` (counted from its start) that overlap the data ranges, in order, each once.
    private static func blocks(overlapping ranges: [Range<Int>], within part: Range<Int>) -> [Int] {
        var blocks: [Int] = []
        for range in ranges {
            let data = range.clamped(to: part)
            guard !data.isEmpty else { continue }
            let first = (data.lowerBound - part.lowerBound) / blockSize, last = (data.upperBound - 1 - part.lowerBound) / blockSize
            for block in first...last where blocks.last.map({ $0 < block }) ?? true { blocks.append(block) }
        }
        return blocks
    }
}

/// The first error of the threads that hash, which stops the others.
private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    var isSet: Bool { lock.withLock { stored != nil } }
    var error: (any Error)? { lock.withLock { stored } }
    func set(_ error: any Error) { lock.withLock { if stored == nil { stored = error } } }
}
