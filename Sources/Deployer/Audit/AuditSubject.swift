import Packages

/// What an audit looks at: a system of the definitions (its lock), an image in the store, or a
/// host of the ledger (the image it runs), each with the packages it installs.
public struct AuditSubject: Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, Comparable {
        case system, image, host
        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    public var kind: Kind
    /// The system's or host's name, or the image's store entry.
    public var name: String
    /// The image's digest, when known (images and hosts).
    public var digest: String?
    /// The release its packages come from (`bookworm`).
    public var release: String
    public var packages: [LockedPackage]

    public init(kind: Kind, name: String, digest: String?, release: String, packages: [LockedPackage]) {
        self.kind = kind
        self.name = name
        self.digest = digest
        self.release = release
        self.packages = packages
    }
}
