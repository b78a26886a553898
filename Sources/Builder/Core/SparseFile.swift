import Foundation

/// Reading and copying disk images by their data extents (`SEEK_DATA`/`SEEK_HOLE`), so the
/// gigabytes of holes in a sparse image cost neither reads nor writes.
public enum SparseFile {
    private static let seekData: Int32 = 3, seekHole: Int32 = 4
    private static let chunk = 4 << 20

    /// Copies `source` into `destination` from byte `offset` on, leaving holes where the source
    /// has holes or blocks of zeros.
    public static func copy(_ source: URL, into destination: URL, at offset: Int) throws {
        let input = try open(source, O_RDONLY)
        defer { close(input) }
        let output = try open(destination, O_WRONLY)
        defer { close(output) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        for range in try dataRanges(input, path: source) {
            var position = range.lowerBound
            while position < range.upperBound {
                let count = try read(input, into: buffer, count: min(chunk, range.upperBound - position), at: position, path: source)
                var start = 0
                // Write only the 64 KiB pieces that hold something.
                while start < count {
                    let end = min(start + 65536, count)
                    let piece = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                    if !isZero(piece), pwrite(output, piece.baseAddress, piece.count, off_t(offset + position + start)) != piece.count {
                        throw BuildEnvironmentError("cannot write \(destination.path): \(String(cString: strerror(errno)))")
                    }
                    start = end
                }
                position += count
            }
        }
    }

    /// The SHA-256 of the whole file, holes hashed as the zeros they read as.
    public static func sha256(of file: URL) throws -> String {
        let input = try open(file, O_RDONLY)
        defer { close(input) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { zeros.deallocate() }
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        var hasher = CryptoHasher()
        var position = 0
        func hashZeros(upTo end: Int) {
            while position < end {
                let count = min(chunk, end - position)
                hasher.update(UnsafeRawBufferPointer(rebasing: zeros[0..<count]))
                position += count
            }
        }
        for range in try dataRanges(input, path: file) {
            hashZeros(upTo: range.lowerBound)
            while position < range.upperBound {
                let count = try read(input, into: buffer, count: min(chunk, range.upperBound - position), at: position, path: file)
                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                position += count
            }
        }
        hashZeros(upTo: try size(input, path: file))
        return hasher.finalize()
    }

    // MARK: - Helpers

    /// Calls `body` with each `size`-byte chunk of the file (or of the bytes `within` it) in
    /// order, the last may be shorter, or `nil` for a chunk of zeros; chunks within holes are
    /// not read.
    public static func forEachChunk(of file: URL, size: Int, within part: Range<Int>? = nil,
                                    _ body: (Int, UnsafeRawBufferPointer?) throws -> Void) throws {
        let input = try open(file, O_RDONLY)
        defer { close(input) }
        let fileSize = try self.size(input, path: file)
        let start = part?.lowerBound ?? 0, end = part.map { min($0.upperBound, fileSize) } ?? fileSize
        let ranges = try dataRanges(input, path: file)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
        defer { buffer.deallocate() }
        var next = ranges.startIndex
        for index in 0..<(max(0, end - start + size - 1) / size) {
            let chunk = (start + index * size)..<min(start + (index + 1) * size, end)
            while next < ranges.endIndex, ranges[next].upperBound <= chunk.lowerBound { next += 1 }
            guard next < ranges.endIndex, ranges[next].overlaps(chunk) else {
                try body(index, nil)
                continue
            }
            let count = try read(input, into: buffer, count: chunk.count, at: chunk.lowerBound, path: file)
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            try body(index, isZero(bytes) ? nil : bytes)
        }
    }

    private static func open(_ file: URL, _ flags: Int32) throws -> Int32 {
        let descriptor = Glibc.open(file.path, flags | O_CLOEXEC)
        guard descriptor >= 0 else { throw BuildEnvironmentError("cannot open \(file.path): \(String(cString: strerror(errno)))") }
        return descriptor
    }

    /// The size of `file` in bytes, holes included.
    static func size(of file: URL) throws -> Int {
        let descriptor = try open(file, O_RDONLY)
        defer { close(descriptor) }
        return try size(descriptor, path: file)
    }

    static func size(_ descriptor: Int32, path: URL) throws -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw BuildEnvironmentError("cannot read \(path.path): \(String(cString: strerror(errno)))") }
        return Int(info.st_size)
    }

    /// The file's data extents, in order.
    static func dataRanges(_ descriptor: Int32, path: URL) throws -> [Range<Int>] {
        let end = try size(descriptor, path: path)
        var ranges: [Range<Int>] = []
        var position = 0
        while position < end {
            let data = lseek(descriptor, off_t(position), seekData)
            if data < 0 {
                guard errno == ENXIO else { throw BuildEnvironmentError("cannot read \(path.path): \(String(cString: strerror(errno)))") }
                break  // only a hole is left
            }
            let hole = max(Int(lseek(descriptor, data, seekHole)), Int(data))
            ranges.append(Int(data)..<min(hole, end))
            position = hole
        }
        return ranges
    }

    @discardableResult
    static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, count: Int, at offset: Int, path: URL) throws -> Int {
        var done = 0
        while done < count {
            let result = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { throw BuildEnvironmentError("cannot read \(path.path): \(result < 0 ? String(cString: strerror(errno)) : "it ended early")") }
            done += result
        }
        return done
    }

    static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let words = bytes.count / 8
        let aligned = bytes.baseAddress!.assumingMemoryBound(to: UInt64.self)
        for index in 0..<words where aligned[index] != 0 { return false }
        for index in (words * 8)..<bytes.count where bytes[index] != 0 { return false }
        return true
    }
}
