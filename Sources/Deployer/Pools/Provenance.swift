import Foundation
import ImagecCore

/// Where a pushed image came from, stored with it in the pool and in the ledger: the
/// definitions' git commit, imagec's version and the digest of the locked package set
/// (images that share it are alike: the best parents for a delta upload).
public struct Provenance: Codable, Hashable, Sendable {
    /// The definitions' commit, `-dirty` when they had uncommitted changes, or `unknown`.
    public var commit: String
    public var version: String
    /// The SHA-256 of the locked package set's canonical JSON.
    public var packages: String

    public init(commit: String, version: String, packages: String) {
        self.commit = commit
        self.version = version
        self.packages = packages
    }

    /// The pool metadata it is stored as.
    public var metadata: [String: String] {
        [PoolMetadata.commit: commit, PoolMetadata.version: version, PoolMetadata.packages: packages]
    }
}
