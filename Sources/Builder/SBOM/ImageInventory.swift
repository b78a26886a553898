import Foundation
import ImagecCore
import ImageDSL
import Packages

/// What an image is made of, for its SBOM: every locked .deb with its hash, source, maintainer,
/// installed dependencies and declared licence. From the lock and the image's package layer
/// (its dpkg database and copyright files) only: no clock, no network, so two builds of one
/// image give the same inventory on any machine.
public struct ImageInventory: Sendable, Equatable {
    public var hostName: String
    /// The image's digest (`sha256:…`).
    public var digest: String
    /// When its packages were locked (the build's `SOURCE_DATE_EPOCH`).
    public var created: Int
    /// `debian-12`, as package URLs write it.
    public var distro: String
    public var packages: [Package]

    public struct Package: Sendable, Equatable {
        public var name: String
        public var version: String
        public var architecture: String
        public var sha256: String
        public var source: String
        public var sourceVersion: String
        /// `Name <address>`, from dpkg's record.
        public var maintainer: String
        /// Names of the image's packages it depends on.
        public var dependencies: [String]
        public var license: DeclaredLicense?

        /// `pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12` (the epoch's `:` kept).
        public func purl(distro: String) -> String {
            "pkg:deb/debian/\(name)@\(PackageURL.encode(version))?arch=\(architecture)&distro=\(distro)"
        }

        public func sourcePurl(distro: String) -> String {
            "pkg:deb/debian/\(source)@\(PackageURL.encode(sourceVersion))?arch=source&distro=\(distro)"
        }
    }

    public init(hostName: String, digest: String, created: Int, distro: String, packages: [Package]) {
        self.hostName = hostName
        self.digest = digest
        self.created = created
        self.distro = distro
        self.packages = packages.sorted { ($0.name, $0.architecture) < ($1.name, $1.architecture) }
    }

    /// The inventory of an image built from `set`, whose package layer's tree is `tree`.
    public init(hostName: String, digest: String, set: PackageLock.PackageSet, tree: URL) throws {
        let statusFile = tree.appendingPathComponent("var/lib/dpkg/status")
        guard let text = try? String(contentsOf: statusFile, encoding: .utf8) else {
            throw BuildEnvironmentError("cannot read dpkg's records of the package layer (\(statusFile.path)): its SBOM would miss every maintainer and dependency")
        }
        let status = DpkgStatus(text: text)
        let packages = set.packages.map { locked in
            let installed = status.packages[locked.name]
            let copyright = try? String(contentsOf: tree.appendingPathComponent("usr/share/doc/\(locked.name)/copyright"), encoding: .utf8)
            return Package(name: locked.name, version: locked.version, architecture: locked.architecture, sha256: locked.sha256,
                           source: locked.source ?? locked.name, sourceVersion: locked.sourceVersion ?? locked.version,
                           maintainer: installed?.maintainer ?? "", dependencies: installed?.dependencies ?? [],
                           license: copyright.flatMap { DeclaredLicense(copyright: $0) })
        }
        self.init(hostName: hostName, digest: digest, created: set.sourceDateEpoch,
                  distro: "\(set.distribution.vendor)-\(Self.version(of: set.distribution.release))", packages: packages)
    }

    /// Debian's release numbers: `bookworm` → 12.
    static func version(of release: String) -> String {
        ["buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14"][release] ?? release
    }

    /// The creation time, as both formats write it: `2026-11-20T02:15:33Z`.
    public var createdText: String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(created)))
    }

    /// The image digest's hexadecimal part.
    public var digestHex: String { digest.hasPrefix("sha256:") ? String(digest.dropFirst(7)) : digest }
}

/// Package URLs (purl), as SBOM tools and trackers match them.
enum PackageURL {
    /// A version with what purl reserves percent-encoded: `+` as `%2B`; an epoch's `:` kept.
    static func encode(_ version: String) -> String {
        var encoded = ""
        for byte in version.utf8 {
            let character = Character(UnicodeScalar(byte))
            if character.isASCII && (character.isLetter || character.isNumber || ".-_~:".contains(character)) {
                encoded.append(character)
            } else {
                encoded += "%" + String(format: "%02X", byte)
            }
        }
        return encoded
    }
}
