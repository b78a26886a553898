import Foundation
import ImagecCore

/// An e2fsprogs undo file (`debugfs -z`, `tune2fs -z`): before a tool first writes a block of
/// a file system, it keeps the block's old bytes there, under its number. So the file names
/// every byte range the tool wrote, which is what a digest must read again (`DiskDigest`).
///
/// The format is e2fsprogs' `E2UNDO02` (lib/ext2fs/undo_io.c): a 512-byte header, then key
/// blocks, each listing (file system block, checksum, size) for the data blocks after it.
struct UndoFile {
    let url: URL

    /// The byte ranges, from the file system's start, that the tool may have written (whole
    /// undo blocks around each write, and the primary superblock).
    func writtenRanges() throws -> [Range<Int>] {
        guard let data = FileManager.default.contents(atPath: url.path), !data.isEmpty else { return [] }
        func number<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) throws -> T {
            guard offset >= 0, offset + MemoryLayout<T>.size <= data.count else { throw corrupt("it ends early") }
            return data[data.startIndex + offset..<data.startIndex + offset + MemoryLayout<T>.size].reversed()
                .reduce(T(0)) { $0 << 8 | T($1) }
        }
        guard data.count >= 512, data.prefix(8) == Data("E2UNDO02".utf8) else { throw corrupt("no E2UNDO02 header") }
        let keys = Int(try number(UInt64.self, at: 8)), keyOffset = Int(try number(UInt64.self, at: 24))
        let blockSize = Int(try number(UInt32.self, at: 32)), fileSystemBlockSize = Int(try number(UInt32.self, at: 36))
        guard try number(UInt32.self, at: 44) & 1 == 1 else { throw corrupt("the tool did not finish it") }
        guard blockSize >= 1024, fileSystemBlockSize > 0 else { throw corrupt("block sizes \(blockSize) and \(fileSystemBlockSize)") }
        let keysPerBlock = blockSize / 16 - 1
        // The primary superblock is written with `io_channel_write_byte`, whose undo record
        // e2fsprogs 1.47 files at the file system's offset counted twice: it is always included.
        var ranges: [Range<Int>] = [0..<2048]
        var block = keyOffset, done = 0
        while done < keys {
            let keyBlock = block
            guard try number(UInt32.self, at: keyBlock * blockSize) == 0xCADE_CADE else { throw corrupt("a key block without its magic") }
            block += 1
            for key in 0..<min(keysPerBlock, keys - done) {
                let entry = keyBlock * blockSize + 16 + key * 16
                let start = Int(try number(UInt64.self, at: entry)) * fileSystemBlockSize, size = Int(try number(UInt32.self, at: entry + 12))
                ranges.append(start..<(start + size))
                block += (size + blockSize - 1) / blockSize
            }
            done += keysPerBlock
        }
        return ranges
    }

    private func corrupt(_ reason: String) -> BuildEnvironmentError {
        BuildEnvironmentError("cannot read the undo file \(url.path): \(reason)")
    }
}
