import Foundation

/// What an installer tells `imagec serve` as it goes: a step started or finished, bytes
/// fetched and written, and at the end its result. Kept, one JSON object per line, for
/// `imagec deploy` to show and record.
public struct InstallerReport: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// A step began (`find disk`, `partition`, `write slot`, `verify`, `identity`, `boot`).
        case step
        /// Bytes fetched and written so far in the step.
        case progress
        /// The installer finished: the slot is written, verified and made the next boot.
        case done
        /// The installer failed in `step`, with the failing command's `output`.
        case failed
    }

    public var kind: Kind
    public var step: String?
    /// The slot written: `a` or `b`.
    public var slot: String?
    public var fetched: Int?
    public var written: Int?
    public var total: Int?
    public var message: String?
    public var output: String?
    /// Seconds since the installer started, when it sent the report.
    public var elapsed: Double?

    public init(kind: Kind, step: String? = nil, slot: String? = nil, fetched: Int? = nil, written: Int? = nil, total: Int? = nil,
                message: String? = nil, output: String? = nil, elapsed: Double? = nil) {
        self.kind = kind
        self.step = step
        self.slot = slot
        self.fetched = fetched
        self.written = written
        self.total = total
        self.message = message
        self.output = output
        self.elapsed = elapsed
    }
}
