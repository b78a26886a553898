/// One root slot of a bare-metal host, for `imagec status`.
public struct SlotStatus: Codable, Equatable, Sendable {
    /// `a` or `b`.
    public var slot: String
    /// The image imagec wrote there, and the swap that wrote it.
    public var digest: String?
    public var swap: Int64?
    /// Whether the boot loader boots it by default.
    public var isDefault: Bool
    /// Whether the machine runs it now; nil when it did not answer.
    public var running: Bool?
    /// The last trial of this slot that was given up, if it is the last one.
    public var failedTry: String?

    public init(slot: String, digest: String?, swap: Int64?, isDefault: Bool, running: Bool?, failedTry: String?) {
        self.slot = slot
        self.digest = digest
        self.swap = swap
        self.isDefault = isDefault
        self.running = running
        self.failedTry = failedTry
    }
}
