import Foundation
import ImageDSL

/// Pushes a built image to its system's pool: names it, tags it, and picks the parent whose
/// blocks it shares (so only the differences are written).
public struct ImagePusher {
    public var pool: any ImagePool

    /// Deeper clone chains read slower; past this, an image is uploaded whole.
    static let maximumDepth = 8

    public init(pool: any ImagePool) {
        self.pool = pool
    }

    /// `<prefix>_<host>_<YYYYMMDDHHMM>` (UTC).
    public static func imageName(prefix: String, host: String, at date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        let stamp = String(format: "%04d%02d%02d%02d%02d", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!)
        return "\(prefix)_\(host)_\(stamp)"
    }

    /// The best parent among `images` for an image of `host` with the package set `packages`:
    /// the latest base of the same host, else the latest base with the same packages (a sibling
    /// from the same template), not too deep a clone.
    public static func parent(among images: [PoolImage], host: String, packages: String) -> PoolImage? {
        let bases = images.filter { $0.isBase && (Int($0.metadata[PoolMetadata.depth] ?? "0") ?? 0) < maximumDepth }
            .sorted { ($0.metadata[PoolMetadata.created] ?? "", $0.name) > ($1.metadata[PoolMetadata.created] ?? "", $1.name) }
        return bases.first { $0.system == host } ?? bases.first { $0.metadata[PoolMetadata.packages] == packages }
    }

    /// Pushes `image` (the store's raw disk) unless the pool has `digest`.
    public func push(
        _ image: URL, digest: String, host: String, prefix: String, metadata: [String: String], at date: Date = Date(),
        progress: @escaping (PushProgress) -> Void
    ) throws -> PushResult {
        var tags = metadata
        tags[PoolMetadata.system] = host
        tags[PoolMetadata.created] = ISO8601DateFormatter().string(from: date)
        let existing = try pool.images()
        let parent = Self.parent(among: existing, host: host, packages: metadata[PoolMetadata.packages] ?? "")
        var name = Self.imageName(prefix: prefix, host: host, at: date)
        // Two pushes of a host within a minute: the second name gets a suffix.
        var suffix = 1
        while existing.contains(where: { $0.name == name }) {
            suffix += 1
            name = Self.imageName(prefix: prefix, host: host, at: date) + "_\(suffix)"
        }
        let result = try pool.push(PushRequest(file: image, name: name, digest: digest, metadata: tags, parent: parent), progress: progress)
        // The image's SBOMs, from its store entry, beside it.
        for suffix in LocalPool.attachmentSuffixes {
            if let sbom = FileManager.default.contents(atPath: image.deletingLastPathComponent().appendingPathComponent(suffix).path) {
                try pool.attach(sbom, as: suffix, to: result.image.name)
            }
        }
        return result
    }

    /// Makes `host`'s candidate root disk: a clone of `base` named after the host's disk
    /// (``DiskNames/candidate``), handed to `write` (which writes the host's identity into
    /// it) before it gets that name. A candidate left by an earlier deployment that never
    /// swapped it in is replaced.
    public func prepareCandidate(
        of base: PoolImage, host: String, disk: String, metadata: [String: String] = [:], write: (DiskLocation) throws -> Void
    ) throws -> PoolImage {
        let name = DiskNames(disk: disk).candidate
        if let stale = try pool.images().first(where: { $0.name == name }) {
            guard stale.metadata[PoolMetadata.host] == host else {
                throw NameTaken(name: name, store: pool.description, host: host)
            }
            try pool.remove(name)
        }
        var tags = metadata
        tags[PoolMetadata.host] = host
        tags[PoolMetadata.created] = ISO8601DateFormatter().string(from: Date())
        return try pool.clone(base, as: name, metadata: tags, prepare: write)
    }
}
