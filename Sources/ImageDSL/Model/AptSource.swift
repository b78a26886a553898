/// A package source, in the terms of a deb822 `.sources` entry.
///
/// A system with no apt sources uses the build host's. Declaring one replaces
/// the host's for that system:
///
/// ```swift
/// AptSource(uris: ["http://mirror.lab.example/debian"], suites: ["bookworm", "bookworm-updates"],
///           components: ["main", "non-free-firmware"])
/// ```
public struct AptSource: Codable, Hashable, Sendable, SystemComponent {
    public var uris: [String]
    public var suites: [String]
    public var components: [String]
    /// Path of the keyring that signs the source, if not the distribution's default.
    public var signedBy: String?

    public init(uris: [String], suites: [String], components: [String] = ["main"], signedBy: String? = nil) {
        self.uris = uris
        self.suites = suites
        self.components = components
        self.signedBy = signedBy
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.upsert(self, into: \.aptSources, key: "aptSource:\(uris.joined(separator: ","))", at: location) { $0.uris == uris }
    }
}
