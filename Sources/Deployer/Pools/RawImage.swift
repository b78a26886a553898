import Foundation

/// A raw (sparse) disk image read in chunks for upload: holes are skipped without reading
/// them (`SEEK_DATA`), and chunks of zero bytes are reported as zeros, so they are never written.
struct RawImage {
    /// The upload unit: RBD's default object size.
    static let chunkSize = 4 << 20
    /// lseek's whence for the next data (Linux; Glibc's module does not export the macro).
    private static let seekData: Int32 = 3

    let url: URL
    let size: UInt64
    private let descriptor: Int32

    init(_ url: URL) throws {
        self.url = url
        descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw PoolError("cannot read \(url.path): \(String(cString: strerror(errno)))") }
        var info = stat()
        fstat(descriptor, &info)
        size = UInt64(info.st_size)
    }

    func close() { _ = Glibc.close(descriptor) }

    /// Calls `body` with each chunk's offset and bytes, in order; `nil` bytes for a chunk that
    /// is all zeros (a hole or zero bytes). The last chunk may be short.
    func forEachChunk(_ body: (UInt64, Data?) throws -> Void) throws {
        var offset: UInt64 = 0
        while offset < size {
            let length = Int(min(UInt64(Self.chunkSize), size - offset))
            // The next byte of data at or after this chunk: none in it means a hole.
            var data = lseek(descriptor, off_t(offset), Self.seekData)
            // ENXIO: no data up to the end. Another failure (no SEEK_DATA here): read the chunk.
            if data < 0, errno != ENXIO { data = off_t(offset) }
            if data < 0 || UInt64(data) >= offset + UInt64(length) {
                if data < 0 {
                    // No data up to the end of the file.
                    while offset < size {
                        try body(offset, nil)
                        offset += UInt64(min(UInt64(Self.chunkSize), size - offset))
                    }
                    return
                }
                try body(offset, nil)
                offset += UInt64(length)
                continue
            }
            let bytes = try read(at: offset, length: length)
            try body(offset, Self.isZero(bytes) ? nil : bytes)
            offset += UInt64(length)
        }
    }

    func read(at offset: UInt64, length: Int) throws -> Data {
        var bytes = Data(count: length)
        var done = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while done < length {
                let count = pread(descriptor, buffer.baseAddress! + done, length - done, off_t(offset) + off_t(done))
                guard count > 0 else { throw PoolError("cannot read \(url.path) at \(offset): \(count == 0 ? "end of file" : String(cString: strerror(errno)))") }
                done += count
            }
        }
        return bytes
    }

    /// The parts of `new` that differ from `old` (same length), in `granularity` blocks,
    /// adjacent ones merged: what a delta upload writes of a chunk that changed.
    static func differences(_ new: Data, _ old: Data, granularity: Int = 64 << 10) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        while start < new.count {
            let end = min(start + granularity, new.count)
            if new[new.startIndex + start..<new.startIndex + end] != old[old.startIndex + start..<old.startIndex + end] {
                if let last = ranges.last, last.upperBound == start { ranges[ranges.count - 1] = last.lowerBound..<end } else { ranges.append(start..<end) }
            }
            start = end
        }
        return ranges
    }

    static func isZero(_ bytes: Data) -> Bool {
        bytes.withUnsafeBytes { buffer in
            let words = buffer.bindMemory(to: UInt64.self)
            for word in words where word != 0 { return false }
            for index in (words.count * 8)..<buffer.count where buffer[index] != 0 { return false }
            return true
        }
    }
}
