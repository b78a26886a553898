import Calendars
import ImageDSL

/// Decides a night: which machines are reinstalled for whom, which stay as they are, which
/// bookings are refused and who is reminded. Pure: it reads what the bookable definitions
/// made of the calendar and what the earlier nights recorded, and changes nothing.
///
/// The rules, so that nothing is lost and nothing is done twice:
/// - a booking is reinstalled on the night it starts, never later (a booking that started
///   without its reinstall is left to its user, and the plan says how to reinstall it);
/// - a booking that continues the same user's booking of the machine (adjacent or
///   overlapping days) never reinstalls;
/// - bookings of different users that overlap on a machine: the one that has the machine
///   keeps it, the newcomer is refused; two newcomers on the same night are both refused;
/// - an event that cannot be read, names an unknown machine or user, or asks for an option
///   the machine does not offer is refused with its reason, and the other machines proceed.
public struct NightPlanner: Sendable {
    public var night: CalendarDay
    public var machines: [BookableMachine]
    /// Events the calendar could not use (cancelled, broken iCalendar).
    public var skipped: [SkippedEvent]
    /// What each machine runs now, as the nights recorded it.
    public var installed: [String: InstalledBooking]
    /// The reminders already sent (``Reminder/key``).
    public var reminded: Set<String>

    public init(night: CalendarDay, machines: [BookableMachine], skipped: [SkippedEvent], installed: [String: InstalledBooking], reminded: Set<String>) {
        self.night = night
        self.machines = machines
        self.skipped = skipped
        self.installed = installed
        self.reminded = reminded
    }

    public func plan() -> NightPlan {
        var plan = NightPlan(night: night)
        plan.refused = refusedEvents()
        for machine in machines.sorted(by: { $0.name < $1.name }) {
            let (machinePlan, refused) = self.plan(machine)
            plan.machines.append(machinePlan)
            plan.refused += refused
            plan.reminders += reminder(machine, machinePlan).map { [$0] } ?? []
        }
        return plan
    }

    /// Events starting tonight that no machine accepted: why, as the machine that should
    /// have taken it says, else as the parser says, else an unknown machine.
    func refusedEvents() -> [RefusedBooking] {
        var events: [String: [(machine: BookableMachine, outcome: BookingOutcome)]] = [:]
        for machine in machines {
            for outcome in machine.outcomes { events[outcome.event.id, default: []].append((machine, outcome)) }
        }
        // What the calendar could not use, on its first night (an event without a readable day, every night).
        var refused = skipped.filter { $0.firstDay == nil || $0.firstDay == night }
            .map { RefusedBooking(event: $0.id, summary: $0.summary, firstDay: $0.firstDay, reason: $0.reason) }
        for (id, outcomes) in events.sorted(by: { $0.key < $1.key }) {
            let event = outcomes[0].outcome.event
            guard event.firstDay == night else { continue }
            let owner = outcomes.first { $0.outcome.request?.machine == $0.machine.name }
            if let owner {
                guard let reason = owner.outcome.refusal else { continue }  // accepted
                refused.append(RefusedBooking(event: id, summary: event.summary, machine: owner.machine.name,
                                              user: owner.outcome.request?.user, firstDay: event.firstDay, reason: reason))
            } else if let request = outcomes.lazy.compactMap(\.outcome.request).first {
                refused.append(RefusedBooking(event: id, summary: event.summary, machine: request.machine, user: request.user, firstDay: event.firstDay,
                    reason: "no bookable machine is named '\(request.machine)' (bookable: \(machines.map(\.name).sorted().joined(separator: ", ")))"))
            } else {
                refused.append(RefusedBooking(event: id, summary: event.summary, firstDay: event.firstDay,
                                              reason: outcomes[0].outcome.refusal ?? "the event does not say who books which machine"))
            }
        }
        return refused
    }

    func plan(_ machine: BookableMachine) -> (MachinePlan, [RefusedBooking]) {
        func result(_ action: MachinePlan.Action, _ booking: Booking?, _ reason: String, refusing refused: [RefusedBooking] = []) -> (MachinePlan, [RefusedBooking]) {
            (MachinePlan(machine: machine.name, action: action, booking: booking, reason: reason, definition: machine.definition), refused)
        }
        func days(_ booking: Booking) -> String { "\(booking.account.name)'s booking of \(booking.firstDay) to \(booking.lastDay)" }
        func refuse(_ booking: Booking, _ reason: String) -> RefusedBooking {
            let summary = machine.outcomes.first { $0.event.id == booking.id }?.event.summary ?? ""
            return RefusedBooking(event: booking.id, summary: summary, machine: machine.name, user: booking.account.name, firstDay: booking.firstDay, reason: reason)
        }
        let bookings = machine.bookings
        let covering = bookings.filter { $0.firstDay <= night && night <= $0.lastDay }.sorted { ($0.firstDay, $0.id) < ($1.firstDay, $1.id) }
        guard !covering.isEmpty else { return result(.idle, nil, "no booking tonight") }
        let earlier = covering.filter { $0.firstDay < night }, tonight = covering.filter { $0.firstDay == night }
        let earlierUsers = Set(earlier.map(\.account.name))
        let current = installed[machine.name]
        // Different users overlap: the machine stays with the booking that has it (unless the
        // machine runs another user's: that booking never got it).
        if Set(covering.map(\.account.name)).count > 1 {
            if earlierUsers.count == 1, let holder = earlier.first, current.map({ $0.user == holder.account.name }) ?? true {
                let newcomers = tonight.filter { $0.account.name != holder.account.name }
                return result(.keep, holder, "\(days(holder)) goes on; it overlaps another user's booking, refused",
                              refusing: newcomers.map { refuse($0, "it overlaps \(days(holder)) on \(machine.name)") })
            }
            let users = Set(covering.map(\.account.name)).sorted().joined(separator: ", ")
            return result(earlier.isEmpty ? .idle : .keep, earlier.first, "bookings of \(users) overlap tonight: none is reinstalled",
                          refusing: tonight.map { refuse($0, "it overlaps another user's booking of \(machine.name) tonight (\(users))") })
        }
        // One user: tonight's booking, else the one that has the machine.
        let booking = tonight.first ?? covering[0]
        let user = booking.account.name
        if let current, current.booking == booking.id {
            return result(.keep, booking, "already reinstalled for \(days(booking))")
        }
        // The same user's booking of the machine that ends yesterday or later: the one the
        // machine runs, else the calendar's, unless the machine runs another user's (the
        // calendar's was then never installed: refused, or failed).
        let yesterday = booking.firstDay.adding(days: -1)
        var continued: (firstDay: CalendarDay, lastDay: CalendarDay)?
        if let current, current.user == user {
            if current.lastDay >= yesterday { continued = (current.firstDay, current.lastDay) }
        } else if current == nil, let earlier = bookings.first(where: {
            $0.account.name == user && $0.id != booking.id && $0.firstDay < booking.firstDay && $0.lastDay >= yesterday
        }) {
            continued = (earlier.firstDay, earlier.lastDay)
        }
        if let continued {
            return result(.keep, booking, "continues \(user)'s booking of \(continued.firstDay) to \(continued.lastDay): nothing is reinstalled, \(user)'s data stays")
        }
        if booking.firstDay < night {
            if current?.user == user { return result(.keep, booking, "\(days(booking)) goes on") }
            return result(.keep, booking, "\(days(booking)) started on \(booking.firstDay) and \(machine.name) was not reinstalled for it: "
                          + "run `imagec bookings run --date \(booking.firstDay) --retry-failed` to reinstall it now")
        }
        let previous = current.map { " (it runs \($0.user)'s booking of \($0.firstDay) to \($0.lastDay); their data: \(machine.model.previousUsersData.rawValue))" } ?? ""
        return result(.reinstall, booking, "\(days(booking)) starts tonight\(previous)")
    }

    /// The reminder due tonight to the user who has the machine: their bookings of it, one
    /// after the other, end within the machine's reminder days, and their data will not stay.
    /// None the night a booking is reinstalled: the user's mail says when it ends.
    func reminder(_ machine: BookableMachine, _ plan: MachinePlan) -> Reminder? {
        guard machine.model.previousUsersData != .kept, plan.action == .keep, var last = plan.booking else { return nil }
        let bookings = machine.bookings
        // The last of the user's bookings that follow each other.
        while let next = bookings.filter({ $0.account.name == last.account.name && $0.firstDay > last.firstDay && $0.firstDay <= last.lastDay.adding(days: 1) })
                .max(by: { $0.lastDay < $1.lastDay }), next.lastDay > last.lastDay {
            last = next
        }
        guard last.lastDay.adding(days: -machine.model.remindDaysBefore) <= night, !reminded.contains(Reminder.key(last)) else { return nil }
        return Reminder(booking: last, policy: machine.model.previousUsersData, volumes: machine.model.volumes)
    }
}
