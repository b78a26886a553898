import Foundation
import ImagecCore

/// Where built images are kept for deployment: Ceph RBD through librbd (``RBDPool``), or a
/// local directory of qcow2 files (``LocalPool``). Both pass the same test suite.
///
/// A pool holds base images, one per digest, each with a read-only snapshot that clones are
/// made from, and per-host clones (the candidate root disks). A half-written image never
/// carries its final name: uploads go to a temporary name and are renamed when complete.
public protocol ImagePool: Sendable {
    /// The pool, for messages: `rbd:vm (client.admin, /etc/ceph/ceph.conf)`, `local:/var/lib/imagec/pool`.
    var description: String { get }

    /// Every image under a final name, with its metadata (temporary ones are left out).
    func images() throws -> [PoolImage]

    /// The names of ``images()`` alone, which a pool may read without opening each image
    /// (what a swap checks between its renames).
    func imageNames() throws -> Set<String>

    /// Stores the raw image `request.file` under `request.name`, unless an image of
    /// `request.digest` is there already (then nothing is written). With a `parent` (an image
    /// of the same lineage), the new image is a clone of the parent's snapshot and only the
    /// blocks that differ from it are written.
    func push(_ request: PushRequest, progress: @escaping (PushProgress) -> Void) throws -> PushResult

    /// A copy-on-write clone of `base`'s snapshot named `name`: a host's candidate root disk.
    /// The clone is made under a temporary name and handed to `prepare` (which writes the
    /// host's identity into it) before it gets its final name.
    func clone(_ base: PoolImage, as name: String, metadata: [String: String],
               prepare: (DiskLocation) throws -> Void) throws -> PoolImage

    /// Gives an image another name (the root-disk swap). Fails if `newName` is taken.
    func rename(_ name: String, to newName: String) throws

    /// Takes a snapshot named `snapshot` of the image `name` (a persistent volume's disk, with
    /// its machine stopped), unless it has one by that name already.
    func snapshotVolume(_ name: String, as snapshot: String) throws

    /// Where QEMU and libguestfs find an image of this pool.
    func location(of name: String) -> DiskLocation

    /// Removes an image (its snapshot too). Fails for an image that has clones.
    func remove(_ name: String) throws

    /// Temporary images an interrupted push left behind (names only).
    func leftovers() throws -> [String]

    /// Removes one of ``leftovers()``.
    func removeLeftover(_ name: String) throws

    /// Writes an image's content to a sparse raw file (for checks and debugging).
    func export(_ name: String, to file: URL) throws

    /// Keeps `data` beside the image `name` under `suffix` (its SBOMs: `sbom.spdx.json`); removed with it.
    func attach(_ data: Data, as suffix: String, to name: String) throws

    /// What ``attach(_:as:to:)`` kept, if anything.
    func attachment(_ suffix: String, of name: String) throws -> Data?
}

extension ImagePool {
    public func imageNames() throws -> Set<String> { Set(try images().map(\.name)) }

    /// A clone with nothing written into it.
    public func clone(_ base: PoolImage, as name: String, metadata: [String: String]) throws -> PoolImage {
        try clone(base, as: name, metadata: metadata, prepare: { _ in })
    }
}

/// A pool image as QEMU (and libguestfs, which runs QEMU) opens it.
public enum DiskLocation: Hashable, Sendable {
    /// A disk image file and its format (`qcow2`, `raw`).
    case file(path: String, format: String)
    /// An RBD image, reached as `client` with the cluster's configuration file.
    case rbd(pool: String, namespace: String?, image: String, client: String, configuration: String)

    /// For messages: the file's path, or `rbd:pool[/namespace]/image`.
    public var description: String {
        switch self {
        case .file(let path, _): path
        case .rbd(let pool, let namespace, let image, _, _): "rbd:\(pool)/\(namespace.map { "\($0)/" } ?? "")\(image)"
        }
    }
}

/// An image in a pool.
public struct PoolImage: Codable, Hashable, Sendable {
    public var name: String
    /// The image's size in bytes (the disk a machine sees).
    public var size: UInt64
    /// Bytes the pool stores for this image alone (not its parent's).
    public var used: UInt64
    /// The image it is a clone of, if any.
    public var parent: String?
    /// `imagec.*` keys: digest, system, commit, version, role (`base` or `host`), host.
    public var metadata: [String: String]

    public init(name: String, size: UInt64, used: UInt64, parent: String?, metadata: [String: String]) {
        self.name = name
        self.size = size
        self.used = used
        self.parent = parent
        self.metadata = metadata
    }

    public var digest: String? { metadata[PoolMetadata.digest] }
    public var system: String? { metadata[PoolMetadata.system] }
    public var isBase: Bool { metadata[PoolMetadata.role] == "base" }
}

/// What to push.
public struct PushRequest: Sendable {
    /// The raw (sparse) image file.
    public var file: URL
    /// The final name, such as `imagec_bigmem2_202611231930`.
    public var name: String
    public var digest: String
    /// Stored with the image; ``PoolMetadata`` keys.
    public var metadata: [String: String]
    /// An image of the same lineage to clone and write only the differences to.
    public var parent: PoolImage?

    public init(file: URL, name: String, digest: String, metadata: [String: String], parent: PoolImage?) {
        self.file = file
        self.name = name
        self.digest = digest
        self.metadata = metadata
        self.parent = parent
    }
}

/// How far a push is.
public struct PushProgress: Sendable {
    /// Bytes of the image examined so far, of `total`.
    public var done: UInt64
    public var total: UInt64
    /// Bytes written to the pool so far.
    public var written: UInt64
}

/// What a push did.
public struct PushResult: Sendable {
    public var image: PoolImage
    /// Nothing was written: the pool already held the digest.
    public var reused: Bool
    /// Bytes written (zero blocks and blocks equal to the parent's are not).
    public var bytesWritten: UInt64
    public var seconds: Double
}

/// The metadata keys imagec stores on pool images.
public enum PoolMetadata {
    public static let digest = "imagec.digest"
    public static let system = "imagec.system"
    public static let commit = "imagec.commit"
    public static let version = "imagec.version"
    /// `base` (an image per digest) or `host` (a host's clone).
    public static let role = "imagec.role"
    public static let host = "imagec.host"
    /// The SHA-256 of the image's package set: images that share it are alike, the best parents.
    public static let packages = "imagec.packages"
    /// How many clones deep the image is (a full upload is 0).
    public static let depth = "imagec.depth"
    public static let created = "imagec.created"
    /// On a host's disk: the ledger id of the swap that put it there.
    public static let swap = "imagec.swap"
}

/// A pool that cannot do what was asked: unreachable, refused, or an image in a state that forbids it.
public struct PoolError: CategorizedError, CustomStringConvertible {
    public var description: String
    /// The cluster stopped answering: cleaning up would wait as long again.
    public var timedOut: Bool

    public init(_ description: String, timedOut: Bool = false) {
        self.description = description
        self.timedOut = timedOut
    }

    public var failureKind: FailureKind { .environment }
}
