import Foundation
import ImageDSL

/// One .deb of a lock: exact version, architecture, size and SHA-256, and its path in the
/// archive (relative to a source's URI, so the lock names no mirror).
public struct LockedPackage: Codable, Hashable, Sendable {
    public var name: String
    public var version: String
    public var architecture: String
    public var size: Int
    public var sha256: String
    /// Such as `pool/main/s/samtools/samtools_1.16.1-1_amd64.deb`.
    public var path: String
    /// The source package it was built from, and that source's version (a binNMU `1.2-3+b1`
    /// comes from `1.2-3`): what security trackers name. `nil` in locks written before them.
    public var source: String?
    public var sourceVersion: String?

    public init(name: String, version: String, architecture: String, size: Int, sha256: String, path: String,
                source: String? = nil, sourceVersion: String? = nil) {
        self.name = name
        self.version = version
        self.architecture = architecture
        self.size = size
        self.sha256 = sha256
        self.path = path
        self.source = source
        self.sourceVersion = sourceVersion
    }

    /// Reads a line of `apt-get --print-uris`: `'URI' FILE SIZE SHA256:HASH`.
    init?(printedURI line: String, sources: [AptSource]) {
        let fields = line.split(separator: " ")
        guard fields.count == 4, fields[0].count > 2, fields[3].hasPrefix("SHA256:"), let size = Int(fields[2]) else { return nil }
        let uri = String(fields[0].dropFirst().dropLast())
        let parts = fields[1].dropLast(4).split(separator: "_")  // name_version_arch.deb
        guard fields[1].hasSuffix(".deb"), parts.count == 3 else { return nil }
        name = String(parts[0])
        version = String(parts[1]).removingPercentEncoding ?? String(parts[1])
        architecture = String(parts[2])
        self.size = size
        sha256 = String(fields[3].dropFirst(7))
        let base = sources.flatMap(\.uris).map { $0.hasSuffix("/") ? $0 : $0 + "/" }.first { uri.hasPrefix($0) }
        if let base {
            path = String(uri.dropFirst(base.count))
        } else if let pool = uri.range(of: "/pool/") {
            path = String(uri[uri.index(after: pool.lowerBound)...])
        } else {
            return nil
        }
    }
}
