import Foundation
import ImagecCore
import SwapLedger

/// Where the steps of one swap are recorded: each step's intent before it is taken, and its
/// completion after, in the ledger, each reported as a step event with its duration.
/// ``beforeStep`` runs once an intent is recorded: the point a crash leaves the ledger at,
/// where tests interrupt a swap.
public struct StepJournal: Sendable {
    public var ledger: Ledger
    public var swap: Int64
    public var progress: ProgressReporter
    /// Runs after a step's intent is recorded, before the step is taken.
    public var beforeStep: @Sendable (SwapStep) -> Void
    private let started = StartTimes()

    public init(
        ledger: Ledger, swap: Int64, progress: ProgressReporter = .silent,
        beforeStep: @escaping @Sendable (SwapStep) -> Void = FaultInjection.pause
    ) {
        self.ledger = ledger
        self.swap = swap
        self.progress = progress
        self.beforeStep = beforeStep
    }

    /// Records that `step` is about to be taken.
    public func intend(_ step: SwapStep) throws {
        try ledger.intend(step, of: swap)
        started.set(step, Date())
        progress(.stepStarted(step.rawValue))
        beforeStep(step)
    }

    /// Records that `step` was taken.
    public func done(_ step: SwapStep) throws {
        try ledger.done(step, of: swap)
        if let start = started.take(step) { progress(.stepFinished(step.rawValue, seconds: Date().timeIntervalSince(start))) }
    }

    /// Records `step`'s intent, takes it, and records it done.
    public func step(_ step: SwapStep, _ body: () throws -> Void) throws {
        try intend(step)
        try body()
        try done(step)
    }
}

/// When each step in progress began (a step resumed from the ledger has none).
private final class StartTimes: @unchecked Sendable {
    private var times: [SwapStep: Date] = [:]
    private let lock = NSLock()

    func set(_ step: SwapStep, _ date: Date) { lock.withLock { times[step] = date } }
    func take(_ step: SwapStep) -> Date? { lock.withLock { times.removeValue(forKey: step) } }
}

/// For tests of interrupted swaps and nights through the command line:
/// `IMAGEC_PAUSE_BEFORE=<step>` makes imagec print `paused before <step>` and wait there (the
/// test kills it) once the step's intent is recorded.
public enum FaultInjection {
    @Sendable public static func pause(before step: SwapStep) { pause(before: step.rawValue) }

    @Sendable public static func pause(before step: String) {
        guard ProcessInfo.processInfo.environment["IMAGEC_PAUSE_BEFORE"] == step else { return }
        FileHandle.standardError.write(Data("paused before \(step)\n".utf8))
        Thread.sleep(forTimeInterval: 600)
    }
}
