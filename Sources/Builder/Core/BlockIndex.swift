import Foundation

/// The SHA-256 of every block of a part of an image (a root slot), as bmaptool and RAUC's
/// adaptive updates keep: an installer fetches only the blocks its disk does not already hold,
/// and checks every block of data the part holds against it (those it keeps as it reads them,
/// those it writes read back from the disk). Blocks of zeros are `nil`: they are never
/// fetched, only written as zeros where the disk holds something else.
public struct BlockIndex: Codable, Equatable, Sendable {
    /// Bytes per block: 64 KiB, small enough that a one-file change costs a few blocks, large
    /// enough that the index of an 8 GiB slot stays about 2 MB.
    public static let defaultBlockSize = 65_536

    public var blockSize: Int
    /// Where the part starts in the image, and its length, in bytes.
    public var offset: Int
    public var length: Int
    /// The SHA-256 of the whole part, holes included (for tools that check a part as one file).
    public var sha256: String
    public var blocks: [String?]

    public init(blockSize: Int, offset: Int, length: Int, sha256: String, blocks: [String?]) {
        self.blockSize = blockSize
        self.offset = offset
        self.length = length
        self.sha256 = sha256
        self.blocks = blocks
    }

    /// Indexes `length` bytes of `image` from `offset`, reading only its data extents.
    public static func make(of image: URL, offset: Int, length: Int, blockSize: Int = defaultBlockSize) throws -> BlockIndex {
        let size = (try? FileManager.default.attributesOfItem(atPath: image.path)[.size] as? Int) ?? nil
        guard let size, offset >= 0, length >= 0, offset + length <= size else {
            throw BuildEnvironmentError("\(image.path) ends before byte \(offset + length), the end of the part to index")
        }
        var whole = CryptoHasher()
        var blocks: [String?] = []
        let zeros = Data(count: blockSize)
        let zeroHash = CanonicalJSON.sha256(zeros)
        try SparseFile.forEachChunk(of: image, size: blockSize, within: offset..<(offset + length)) { index, bytes in
            let count = min(blockSize, length - index * blockSize)
            guard let bytes else {
                whole.update(count == blockSize ? zeros : zeros.prefix(count))
                blocks.append(nil)
                return
            }
            whole.update(bytes)
            var hasher = CryptoHasher()
            hasher.update(bytes)
            let hash = hasher.finalize()
            blocks.append(hash == zeroHash ? nil : hash)
        }
        return BlockIndex(blockSize: blockSize, offset: offset, length: length, sha256: whole.finalize(), blocks: blocks)
    }

    /// The bytes of the blocks that hold data.
    public var dataBytes: Int {
        blocks.indices.reduce(0) { total, index in blocks[index] == nil ? total : total + min(blockSize, length - index * blockSize) }
    }
}
