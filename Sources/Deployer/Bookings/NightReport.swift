import ImageDSL

/// What a night's run did: the plan, and how each machine's night ended.
public struct NightReport: Codable, Equatable, Sendable {
    public var night: CalendarDay
    public var plan: NightPlan
    public var machines: [MachineResult]

    public init(night: CalendarDay, plan: NightPlan, machines: [MachineResult]) {
        self.night = night
        self.plan = plan
        self.machines = machines
    }

    /// Whether the night did nothing worth telling the admins: no reinstall, failure, refusal or reminder.
    public var isQuiet: Bool {
        !machines.contains { $0.result != .kept && $0.result != .idle } && plan.refused.isEmpty && plan.reminders.isEmpty
            && plan.brokenDefinitions.isEmpty
    }

    /// Whether a machine's reinstall failed, or its user could not be told.
    public var failed: Bool { machines.contains { $0.result == .failed || $0.result == .notMailed } }
}

/// How one machine's night ended.
public struct MachineResult: Codable, Equatable, Sendable {
    public enum Result: String, Codable, Sendable {
        /// Reinstalled for its booking, checked, and its user mailed.
        case reinstalled
        /// Left as it is (a booking that goes on, the same user continuing, already done).
        case kept
        /// No booking tonight.
        case idle
        /// The reinstall failed; the machine is back on what it ran before (or never left it).
        case failed
        /// Reinstalled and checked, but its user could not be mailed: a rerun of the night mails them.
        case notMailed
    }

    public var machine: String
    public var result: Result
    public var user: String?
    public var booking: String?
    public var reason: String
    public var digest: String?
    public var swap: Int64?
    public var failure: String?

    public init(machine: String, result: Result, user: String? = nil, booking: String? = nil, reason: String,
                digest: String? = nil, swap: Int64? = nil, failure: String? = nil) {
        self.machine = machine
        self.result = result
        self.user = user
        self.booking = booking
        self.reason = reason
        self.digest = digest
        self.swap = swap
        self.failure = failure
    }
}
