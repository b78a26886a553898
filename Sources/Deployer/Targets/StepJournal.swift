import Foundation

/// Where the steps of one swap are recorded: each step's intent before it is taken, and its
/// completion after, in the ledger. ``beforeStep`` runs once an intent is recorded: the point
/// a crash leaves the ledger at, where tests interrupt a swap.
public struct StepJournal: Sendable {
    public var ledger: Ledger
    public var swap: Int64
    /// Runs after a step's intent is recorded, before the step is taken.
    public var beforeStep: @Sendable (SwapStep) -> Void

    public init(ledger: Ledger, swap: Int64, beforeStep: @escaping @Sendable (SwapStep) -> Void = FaultInjection.pause) {
        self.ledger = ledger
        self.swap = swap
        self.beforeStep = beforeStep
    }

    /// Records that `step` is about to be taken.
    public func intend(_ step: SwapStep) throws {
        try ledger.intend(step, of: swap)
        beforeStep(step)
    }

    /// Records that `step` was taken.
    public func done(_ step: SwapStep) throws {
        try ledger.done(step, of: swap)
    }

    /// Records `step`'s intent, takes it, and records it done.
    public func step(_ step: SwapStep, _ body: () throws -> Void) throws {
        try intend(step)
        try body()
        try done(step)
    }
}

/// For tests of interrupted swaps through the command line: `IMAGEC_PAUSE_BEFORE=<step>`
/// makes imagec print `paused before <step>` and wait there (the test kills it) once the
/// step's intent is recorded.
public enum FaultInjection {
    @Sendable public static func pause(before step: SwapStep) {
        guard ProcessInfo.processInfo.environment["IMAGEC_PAUSE_BEFORE"] == step.rawValue else { return }
        FileHandle.standardError.write(Data("paused before \(step.rawValue)\n".utf8))
        Thread.sleep(forTimeInterval: 600)
    }
}
