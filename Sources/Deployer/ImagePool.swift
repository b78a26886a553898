import Foundation

/// Where built images are kept for deployment: Ceph RBD through librbd, or a local
/// directory pool. Both implement this interface and pass the same test suite.
///
/// This is the contract only; the implementations arrive with the image-pool work.
public protocol ImagePool: Sendable {
    /// Images in the pool, with the digest each holds.
    func images() throws -> [PoolImage]
    /// Uploads the image at `file` as `digest`, unless the pool already holds that digest.
    /// A half-written image never carries its final name.
    func upload(_ file: URL, digest: String, name: String, metadata: [String: String]) throws -> PoolImage
    /// Makes a copy-on-write clone of `digest`'s image for a host: the candidate root disk.
    func clone(digest: String, as name: String) throws -> PoolImage
    /// Removes an image that no host uses.
    func remove(_ name: String) throws
}

/// An image in a pool.
public struct PoolImage: Codable, Hashable, Sendable {
    public var name: String
    public var digest: String?
    public var size: UInt64
    public var metadata: [String: String]

    public init(name: String, digest: String?, size: UInt64, metadata: [String: String] = [:]) {
        self.name = name
        self.digest = digest
        self.size = size
        self.metadata = metadata
    }
}
