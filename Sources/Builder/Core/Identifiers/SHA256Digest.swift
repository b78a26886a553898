

/// A SHA-256 digest of one kind of thing, written `sha256:<hex>`, and shortened to twelve hex
/// digits for tables. Each kind is its own type (``ImageDigest``, ``ModelDigest``), so one
/// cannot stand for the other.
public protocol SHA256Digest: Hashable, Codable, Sendable, CustomStringConvertible, Comparable {
    /// The 64 hex digits.
    var hex: String { get }
    init(hex: String)
}

extension SHA256Digest {
    /// Parses `sha256:<hex>`; nil for anything else.
    public init?(_ text: String) {
        guard text.hasPrefix("sha256:"), text.count == 71, text.dropFirst(7).allSatisfy(\.isHexDigit) else { return nil }
        self.init(hex: String(text.dropFirst(7)))
    }

    /// `sha256:<hex>`.
    public var description: String { "sha256:" + hex }

    /// The first twelve hex digits, for tables.
    public var short: String { String(hex.prefix(12)) }

    public static func < (left: Self, right: Self) -> Bool { left.hex < right.hex }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let digest = Self(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not sha256:<hex>"))
        }
        self = digest
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// `sha256:<hex>`'s twelve-digit short form of any text that is one, else the text itself
/// (for digests read back from pools and the ledger, which keep them as text).
public func shortDigest(_ text: String) -> String {
    text.hasPrefix("sha256:") ? String(text.dropFirst(7).prefix(12)) : text
}
