import Foundation
import ImageDSL

/// Where long work reports how it goes, as typed events: the command line renders them as
/// text (or as JSON lines, `--progress json`), and a server or the nightly job can read them.
/// `progress("…")` reports a line of text; `progress(.stepFinished(…))` an event.
public struct ProgressReporter: Sendable {
    public var report: @Sendable (ProgressEvent) -> Void

    public init(_ report: @escaping @Sendable (ProgressEvent) -> Void) {
        self.report = report
    }

    /// Reports nothing.
    public static let silent = ProgressReporter { _ in }

    /// Reports a line of text.
    public func callAsFunction(_ message: String) { report(ProgressEvent(.message(message))) }

    /// Reports an event.
    public func callAsFunction(_ kind: ProgressEvent.Kind) { report(ProgressEvent(kind)) }

    /// The same progress with every event about `subject` (a host deployed beside others).
    public func about(_ subject: String) -> ProgressReporter {
        let report = report
        return ProgressReporter { event in
            var event = event
            event.subject = event.subject ?? subject
            report(event)
        }
    }

    /// Every event's text as a line.
    public static func lines(_ write: @escaping @Sendable (String) -> Void) -> ProgressReporter {
        ProgressReporter { write($0.text) }
    }
}

/// One thing long work reports.
public struct ProgressEvent: Codable, Sendable, Equatable {
    public enum Kind: Codable, Sendable, Equatable {
        /// A line of text.
        case message(String)
        /// A named step began (a build step, a swap step).
        case stepStarted(String)
        /// A named step ended after `seconds`.
        case stepFinished(String, seconds: Double)
        /// Bytes moved so far: `done` of `total` examined, `written` written, at `bytesPerSecond`.
        case transfer(String, done: UInt64, total: UInt64, written: UInt64, bytesPerSecond: UInt64)
        /// A check ran on a machine.
        case check(String, passed: Bool, seconds: Double)
    }

    /// What the event is about, when several things are worked on at once (a host).
    public var subject: String?
    public var kind: Kind
    /// When it happened.
    public var time: Date

    public init(_ kind: Kind, subject: String? = nil, time: Date = Date()) {
        self.kind = kind
        self.subject = subject
        self.time = time
    }

    /// The event as a line of text.
    public var text: String {
        let line: String
        switch kind {
        case .message(let message): line = message
        case .stepStarted(let step): line = "\(step)…"
        case .stepFinished(let step, let seconds): line = "\(step): \(String(format: "%.1f", seconds)) s"
        case .transfer(let what, let done, let total, let written, let rate):
            line = "\(what): \(ByteCount(bytes: done).rounded) of \(ByteCount(bytes: total).rounded) examined, "
                + "\(ByteCount(bytes: written).rounded) written (\(ByteCount(bytes: rate).rounded)/s)"
        case .check(let name, let passed, let seconds): line = "  \(passed ? "pass" : "FAIL") \(name) (\(seconds) s)"
        }
        return subject.map { "\($0): \(line)" } ?? line
    }
}
