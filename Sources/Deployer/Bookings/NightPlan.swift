import ImageDSL

/// What a night's run does, machine by machine: reinstall for whom, leave alone and why, and
/// the bookings it refuses and the reminders it sends. `imagec bookings plan` prints it;
/// `imagec bookings run` carries it out.
public struct NightPlan: Codable, Equatable, Sendable {
    public var night: CalendarDay
    public var machines: [MachinePlan]
    public var refused: [RefusedBooking]
    public var reminders: [Reminder]
    /// Definitions that did not evaluate (their machines are left as they are), with why.
    public var brokenDefinitions: [String]

    public init(night: CalendarDay, machines: [MachinePlan] = [], refused: [RefusedBooking] = [], reminders: [Reminder] = [],
                brokenDefinitions: [String] = []) {
        self.night = night
        self.machines = machines
        self.refused = refused
        self.reminders = reminders
        self.brokenDefinitions = brokenDefinitions
    }

    /// The plan as text, a line or two per machine.
    public var text: String {
        var lines = ["night of \(night):"] + brokenDefinitions.map { "  does not evaluate: \($0)" }
        for machine in machines {
            lines.append("  \(machine.machine): \(machine.action.rawValue)" + (machine.booking.map { " for \($0.account.name) (\($0.firstDay) to \($0.lastDay)\(Self.options($0)))" } ?? ""))
            lines.append("    \(machine.reason)")
        }
        for refusal in refused {
            lines.append("  refused: \(refusal.summary.isEmpty ? refusal.event : "'\(refusal.summary)'")" + (refusal.firstDay.map { " (\($0))" } ?? ""))
            lines.append("    \(refusal.reason)")
        }
        for reminder in reminders {
            lines.append("  remind \(reminder.booking.account.name) (\(reminder.booking.account.mail)): \(reminder.booking.machine)'s booking ends on \(reminder.booking.lastDay); its data will be wiped when the next user's booking starts")
        }
        return lines.joined(separator: "\n")
    }

    static func options(_ booking: Booking) -> String {
        booking.options.isEmpty ? "" : ", " + booking.options.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
    }
}

/// One bookable machine's night.
public struct MachinePlan: Codable, Equatable, Sendable {
    public enum Action: String, Codable, Sendable {
        /// Its booking starts tonight: the booked system is built, tested and deployed, and the user mailed.
        case reinstall
        /// A booking has it and keeps it as it is (the same user continuing, or already done).
        case keep
        /// No booking has it tonight.
        case idle
    }

    public var machine: String
    public var action: Action
    public var booking: Booking?
    /// Why, in a sentence.
    public var reason: String
    /// The definition file that declares the machine.
    public var definition: String

    public init(machine: String, action: Action, booking: Booking?, reason: String, definition: String) {
        self.machine = machine
        self.action = action
        self.booking = booking
        self.reason = reason
        self.definition = definition
    }
}

/// A calendar event that does not become a booking tonight, and why.
public struct RefusedBooking: Codable, Equatable, Sendable {
    public var event: String
    public var summary: String
    public var machine: String?
    public var user: String?
    public var firstDay: CalendarDay?
    public var reason: String

    public init(event: String, summary: String, machine: String? = nil, user: String? = nil, firstDay: CalendarDay? = nil, reason: String) {
        self.event = event
        self.summary = summary
        self.machine = machine
        self.user = user
        self.firstDay = firstDay
        self.reason = reason
    }
}

/// A booking about to end whose machine's data will not stay: its user is mailed once.
public struct Reminder: Codable, Equatable, Sendable {
    public var booking: Booking
    public var policy: DataPolicy
    /// Where the user's data lives (the machine's persistent volumes).
    public var volumes: [String]

    public init(booking: Booking, policy: DataPolicy, volumes: [String]) {
        self.booking = booking
        self.policy = policy
        self.volumes = volumes
    }

    /// What a sent reminder is recorded by: the booking and its last day, so that a booking
    /// the admins extend is reminded again before its new end.
    public var key: String { Self.key(booking) }

    /// The key of a reminder of `booking`.
    public static func key(_ booking: Booking) -> String { "\(booking.id) \(booking.lastDay)" }
}
