import Foundation
import ImageDSL

/// One difference between two canonical models of a system, such as a service option that
/// changed or a user that was added.
public struct ModelChange: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable { case added, removed, changed }

    /// The part of the system: `packages`, `services`, `users`, `files`, `network`…
    public var section: String
    /// What changed within the section, such as `openssh.port` or `/etc/motd`.
    public var item: String
    public var kind: Kind
    /// The value before and after, on one line (`nil` for the side it is absent from).
    public var old: String?
    public var new: String?
    /// A unified diff, for text of several lines (a file's contents).
    public var textDiff: String?
    /// Where the new value was declared (the old one's place for a removal), repository-relative.
    public var source: String?

    public init(section: String, item: String, kind: Kind, old: String? = nil, new: String? = nil,
                textDiff: String? = nil, source: String? = nil) {
        self.section = section
        self.item = item
        self.kind = kind
        self.old = old
        self.new = new
        self.textDiff = textDiff
        self.source = source
    }
}
