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
    /// The part's ``DiskDigest``, `imagec-blocks-v1:<hex>` (what its blocks say, combined).
    public var digest: String
    public var blocks: [String?]

    public init(blockSize: Int, offset: Int, length: Int, digest: String, blocks: [String?]) {
        self.blockSize = blockSize
        self.offset = offset
        self.length = length
        self.digest = digest
        self.blocks = blocks
    }

    /// Indexes `length` bytes of `image` from `offset`, reading only its data extents, on every core.
    public static func make(of image: URL, offset: Int, length: Int) throws -> BlockIndex {
        let size = try SparseFile.size(of: image)
        guard offset >= 0, length >= 0, offset + length <= size else {
            throw BuildEnvironmentError("\(image.path) ends before byte \(offset + length), the end of the part to index")
        }
        let hashes = try DiskDigest.blockHashes(of: image, within: offset..<(offset + length))
        return BlockIndex(blockSize: DiskDigest.blockSize, offset: offset, length: length,
                          digest: DiskDigest.combining(length: length, hashes).description, blocks: hashes.map { $0.map(DiskDigest.hex) })
    }

    /// The bytes of the blocks that hold data.
    public var dataBytes: Int {
        blocks.indices.reduce(0) { total, index in blocks[index] == nil ? total : total + min(blockSize, length - index * blockSize) }
    }
}
