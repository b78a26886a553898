import Builder
import Foundation

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

    /// The provenance of a system of `definitions` (a file) locked to `set`.
    public init(definitions file: String, version: String, set: PackageLock.PackageSet) throws {
        self.init(commit: Self.commit(of: file), version: version, packages: CanonicalJSON.sha256(try CanonicalJSON.encode(value: set)))
    }

    /// The pool metadata it is stored as.
    public var metadata: [String: String] {
        [PoolMetadata.commit: commit, PoolMetadata.version: version, PoolMetadata.packages: packages]
    }

    /// The git commit of the definitions holding `file` (`-dirty` when they have uncommitted
    /// changes), or `unknown` outside a repository.
    public static func commit(of file: String) -> String {
        let folder = (try? ReviewSides.definitionsFolder(from: URL(fileURLWithPath: file).deletingLastPathComponent()))
            ?? URL(fileURLWithPath: file).deletingLastPathComponent()
        guard let repository = try? GitRepository(holding: folder), let commit = try? repository.commit("HEAD") else { return "unknown" }
        return commit + ((try? repository.isDirty()) == true ? "-dirty" : "")
    }
}
