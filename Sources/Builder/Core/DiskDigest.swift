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
        combining(length: length, list: list(blocks))
    }

    /// The same, from a block list (`list(_:)`).
    static func combining(length: Int, list: [UInt8]) -> DiskDigest {
        var outer = SHA256()
        outer.update(data: Data("\(scheme)\nsize \(length)\nblock \(blockSize)\n".utf8))
        var entry = [UInt8](repeating: 1, count: 33)
        for start in stride(from: 0, to: list.count, by: 32) {
            let hash = list[start..<(start + 32)]
            if hash.allSatisfy({ $0 == 0 }) {
                outer.update(data: [0])
            } else {
                entry.replaceSubrange(1..<33, with: hash)
                outer.update(data: entry)
            }
        }
        return DiskDigest(hex: hex(outer.finalize()))
    }

    /// Blocks' SHA-256 as bytes, 32 a block, zeros for a block of zeros: how a root base keeps
    /// its disk's (`blockList(of:)`).
    static func list(_ blocks: [SHA256.Digest?]) -> [UInt8] {
        var list = [UInt8](repeating: 0, count: blocks.count * 32)
        for (index, hash) in blocks.enumerated() {
            hash?.withUnsafeBytes { list.replaceSubrange((index * 32)..<(index * 32 + 32), with: $0) }
        }
        return list
    }

    /// The block list of `file`, to keep beside it for `of(_:sameAs:in:except:)`.
    public static func blockList(of file: URL) throws -> [UInt8] {
        list(try blockHashes(of: file, within: 0..<SparseFile.size(of: file)))
    }

    /// The digest of `file`, which holds the same bytes inside `region` as the file whose block
    /// list is `known`, except in the byte ranges `changed`: only those and what lies outside
    /// `region` are read. Any other case (a region not on block boundaries, a list of another
    /// length) reads the whole file.
    public static func of(_ file: URL, sameAs known: [UInt8], in region: Range<Int>, except changed: [Range<Int>]) throws -> DiskDigest {
        let size = try SparseFile.size(of: file)
        let first = region.lowerBound / blockSize, end = (region.upperBound + blockSize - 1) / blockSize
        guard region.lowerBound % blockSize == 0, region.upperBound % blockSize == 0 || region.upperBound == size,
              region.upperBound <= size, known.count == end * 32 else { return try of(file) }
        var list = [UInt8](repeating: 0, count: (size + blockSize - 1) / blockSize * 32)
        if !region.isEmpty { list.replaceSubrange((first * 32)..<(end * 32), with: known[(first * 32)..<(end * 32)]) }
        if region.lowerBound > 0 {
            list.replaceSubrange(0..<(first * 32), with: Self.list(try blockHashes(of: file, within: 0..<region.lowerBound)))
        }
        if region.upperBound < size {
            let after = Self.list(try blockHashes(of: file, within: region.upperBound..<size))
            list.replaceSubrange((end * 32)..<(end * 32 + after.count), with: after)
        }
        // The blocks that changed inside the region, read again.
        let blocks = Set(changed.flatMap { range -> [Int] in
            let range = range.clamped(to: region)
            return range.isEmpty ? [] : Array((range.lowerBound / blockSize)...((range.upperBound - 1) / blockSize))
        }).sorted()
        let input = Glibc.open(file.path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BuildEnvironmentError("cannot open \(file.path): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 4096)
        defer { buffer.deallocate() }
        for block in blocks {
            let count = try SparseFile.read(input, into: buffer, count: min(blockSize, size - block * blockSize), at: block * blockSize, path: file)
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            var hash = [UInt8](repeating: 0, count: 32)
            if !SparseFile.isZero(bytes) { SHA256.hash(data: bytes).withUnsafeBytes { hash = Array($0) } }
            list.replaceSubrange((block * 32)..<(block * 32 + 32), with: hash)
        }
        return combining(length: size, list: list)
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
