import Foundation

/// What a bare-metal host's two root slots hold, as imagec last left them: the image in each,
/// and the default slot (the one that booted and passed its checks). The machine's own record
/// is its GRUB environment; this one is imagec's, for the ledger's names and `imagec status`.
public struct HostSlots: Codable, Equatable, Sendable {
    /// The image a slot holds: its digest and the swap that wrote it.
    public struct Content: Codable, Equatable, Sendable {
        public var digest: String
        public var swap: Int64

        public init(digest: String, swap: Int64) {
            self.digest = digest
            self.swap = swap
        }
    }

    /// A trial that was given up: the slot, the swap that wrote it, and its image.
    public struct FailedTry: Codable, Equatable, Sendable {
        public var slot: String
        public var swap: Int64
        public var digest: String

        public init(slot: String, swap: Int64, digest: String) {
            self.slot = slot
            self.swap = swap
            self.digest = digest
        }
    }

    /// `a` or `b`; nil before the first install passed its checks.
    public var defaultSlot: String?
    public var a: Content?
    public var b: Content?
    /// The last trial given up (its checks failed, or the machine came back by itself).
    public var lastFailedTry: FailedTry?

    public init(defaultSlot: String? = nil, a: Content? = nil, b: Content? = nil) {
        self.defaultSlot = defaultSlot
        self.a = a
        self.b = b
    }

    public subscript(slot: String) -> Content? {
        get { slot == "a" ? a : slot == "b" ? b : nil }
        set { if slot == "a" { a = newValue } else if slot == "b" { b = newValue } }
    }

    /// The slot a deploy writes: the one that is not the default (A on a new disk; B after a
    /// first install that never passed its checks, which left A the boot loader's default).
    public var inactive: String { (defaultSlot ?? (a == nil ? "b" : "a")) == "a" ? "b" : "a" }

    /// The other slot's name.
    public static func other(_ slot: String) -> String { slot == "a" ? "b" : "a" }
}
