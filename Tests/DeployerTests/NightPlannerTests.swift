import Bookings
import Calendars
import ImageDSL
import Testing

/// The night's decisions, from what the bookable definitions made of the calendar and what
/// earlier nights recorded: nothing reinstalled that continues, nothing refused silently.
struct NightPlannerTests {
    static func day(_ text: String) -> CalendarDay { CalendarDay(text)! }
    static let night = day("2026-12-09")

    static func account(_ name: String) -> Account { Account(name, uid: 2000 + name.count, mail: "\(name)@lab.example") }

    /// An accepted booking of `machine`, as the definition's outcome.
    static func booking(_ id: String, _ user: String, _ machine: String, _ first: String, _ last: String) -> BookingOutcome {
        let event = CalendarEvent(id: id, summary: "\(user) - \(machine)", firstDay: day(first), lastDay: day(last))
        return BookingOutcome(event: event, request: BookingRequest(user: user, machine: machine),
                              booking: Booking(id: id, account: account(user), machine: machine, firstDay: day(first), lastDay: day(last), options: [:]))
    }

    static func machine(_ name: String, _ outcomes: [BookingOutcome], data: DataPolicy = .wiped) -> BookableMachine {
        BookableMachine(definition: "systems/\(name).swift",
                        model: BookableModel(machine: name, options: [], previousUsersData: data, remindDaysBefore: 2, volumes: ["/home"],
                                             location: SourceLocation(file: "systems/\(name).swift", line: 20)),
                        outcomes: outcomes)
    }

    static func plan(_ machines: [BookableMachine], skipped: [SkippedEvent] = [], installed: [String: InstalledBooking] = [:],
                     reminded: Set<String> = []) -> NightPlan {
        NightPlanner(night: night, machines: machines, skipped: skipped, installed: installed, reminded: reminded).plan()
    }

    @Test func aBookingStartingTonightIsReinstalledAndAContinuationIsNot() {
        let plan = Self.plan([
            Self.machine("bigmem1", [Self.booking("b1", "alice", "bigmem1", "2026-12-09", "2026-12-10")]),
            // bob's new booking follows his own: same machine, adjacent days.
            Self.machine("bigmem2", [Self.booking("b2", "bob", "bigmem2", "2026-12-07", "2026-12-08"),
                                     Self.booking("b3", "bob", "bigmem2", "2026-12-09", "2026-12-12")]),
            Self.machine("bigmem3", []),
        ], installed: ["bigmem1": InstalledBooking(booking: "old", user: "carol", firstDay: Self.day("2026-12-01"), lastDay: Self.day("2026-12-08"))])
        #expect(plan.machines.map { "\($0.machine) \($0.action.rawValue) \($0.booking?.id ?? "-"): \($0.reason)" } == [
            "bigmem1 reinstall b1: alice's booking of 2026-12-09 to 2026-12-10 starts tonight (it runs carol's booking of 2026-12-01 to 2026-12-08; their data: wiped)",
            "bigmem2 keep b3: continues bob's booking of 2026-12-07 to 2026-12-08: nothing is reinstalled, bob's data stays",
            "bigmem3 idle -: no booking tonight",
        ])
        #expect(plan.refused.isEmpty)
    }

    @Test func theMachineRunsTheBookingAlreadyOrTheSameUserGoesOn() {
        let installed = ["bigmem1": InstalledBooking(booking: "b1", user: "alice", firstDay: Self.day("2026-12-09"), lastDay: Self.day("2026-12-10"))]
        let plan = Self.plan([Self.machine("bigmem1", [Self.booking("b1", "alice", "bigmem1", "2026-12-09", "2026-12-10")])], installed: installed)
        #expect(plan.machines.map(\.reason) == ["already reinstalled for alice's booking of 2026-12-09 to 2026-12-10"])
        // The ledger says alice has the machine until yesterday: a new booking of hers continues it.
        let ledger = ["bigmem1": InstalledBooking(booking: "b0", user: "alice", firstDay: Self.day("2026-12-01"), lastDay: Self.day("2026-12-08"))]
        let next = Self.plan([Self.machine("bigmem1", [Self.booking("b1", "alice", "bigmem1", "2026-12-09", "2026-12-10")])], installed: ledger)
        #expect(next.machines.map(\.action) == [.keep] && next.machines[0].reason.hasPrefix("continues alice's booking of 2026-12-01 to 2026-12-08"))
    }

    /// A booking of the same user that the machine never ran (refused, or its reinstall failed)
    /// is no continuation: the machine runs another user's, and tonight's booking reinstalls it.
    @Test func aBookingTheMachineNeverRanIsNoContinuation() {
        let carol = ["bigmem1": InstalledBooking(booking: "c", user: "carol", firstDay: Self.day("2026-12-05"), lastDay: Self.day("2026-12-08"))]
        let plan = Self.plan([Self.machine("bigmem1", [Self.booking("e1", "erin", "bigmem1", "2026-12-08", "2026-12-08"),
                                                        Self.booking("e2", "erin", "bigmem1", "2026-12-09", "2026-12-10")])], installed: carol)
        #expect(plan.machines.map { "\($0.action.rawValue) \($0.booking?.id ?? "-")" } == ["reinstall e2"], "\(plan.machines)")
        // dave's booking overlapped carol's and never got the machine: erin's, starting tonight, is no newcomer to his.
        let overlapped = Self.plan([Self.machine("bigmem1", [Self.booking("d", "dave", "bigmem1", "2026-12-07", "2026-12-10"),
                                                              Self.booking("e", "erin", "bigmem1", "2026-12-09", "2026-12-09")])], installed: carol)
        #expect(overlapped.machines.map { "\($0.action.rawValue) \($0.booking?.id ?? "-"): \($0.reason)" }
                == ["keep d: bookings of dave, erin overlap tonight: none is reinstalled"], "\(overlapped.machines)")
        #expect(overlapped.refused.map(\.event) == ["e"])
    }

    @Test func aBookingThatStartedWithoutItsReinstallIsLeftToItsUser() {
        let plan = Self.plan([Self.machine("bigmem1", [Self.booking("b1", "alice", "bigmem1", "2026-12-08", "2026-12-10")])])
        #expect(plan.machines.map(\.action) == [.keep])
        #expect(plan.machines[0].reason == "alice's booking of 2026-12-08 to 2026-12-10 started on 2026-12-08 and bigmem1 was not reinstalled for it: "
                + "run `imagec bookings run --date 2026-12-08 --retry-failed` to reinstall it now")
    }

    @Test func overlappingBookingsOfOtherUsersAreRefused() {
        let plan = Self.plan([
            // dave has the machine since the 7th; erin's booking from tonight overlaps it.
            Self.machine("bigmem1", [Self.booking("d", "dave", "bigmem1", "2026-12-07", "2026-12-10"), Self.booking("e", "erin", "bigmem1", "2026-12-09", "2026-12-09")]),
            // Two newcomers tonight: neither gets it.
            Self.machine("bigmem2", [Self.booking("f", "fred", "bigmem2", "2026-12-09", "2026-12-09"), Self.booking("g", "gina", "bigmem2", "2026-12-09", "2026-12-11")]),
        ], installed: ["bigmem1": InstalledBooking(booking: "d", user: "dave", firstDay: Self.day("2026-12-07"), lastDay: Self.day("2026-12-10"))])
        #expect(plan.machines.map { "\($0.machine) \($0.action.rawValue): \($0.reason)" } == [
            "bigmem1 keep: dave's booking of 2026-12-07 to 2026-12-10 goes on; it overlaps another user's booking, refused",
            "bigmem2 idle: bookings of fred, gina overlap tonight: none is reinstalled",
        ])
        #expect(plan.refused.map { "\($0.event) \($0.machine ?? "-"): \($0.reason)" } == [
            "e bigmem1: it overlaps dave's booking of 2026-12-07 to 2026-12-10 on bigmem1",
            "f bigmem2: it overlaps another user's booking of bigmem2 tonight (fred, gina)",
            "g bigmem2: it overlaps another user's booking of bigmem2 tonight (fred, gina)",
        ])
    }

    @Test func unreadableEventsUnknownMachinesAndUsersAreRefusedWithTheirReason() {
        let event = { (id: String, summary: String) in CalendarEvent(id: id, summary: summary, firstDay: Self.night, lastDay: Self.night) }
        let unknownUser = BookingOutcome(event: event("u", "zoe - bigmem1"), request: BookingRequest(user: "zoe", machine: "bigmem1"),
                                         refusal: "user 'zoe' is not in the lab's directory")
        let garbage = BookingOutcome(event: event("g", "coffee"), refusal: "the summary 'coffee' is not 'user - machine'")
        let unknownMachine = BookingOutcome(event: event("m", "alice - bigmem9"), request: BookingRequest(user: "alice", machine: "bigmem9"))
        // Tomorrow's garbage is reported tomorrow.
        let later = BookingOutcome(event: CalendarEvent(id: "t", summary: "tea", firstDay: Self.day("2026-12-10"), lastDay: Self.day("2026-12-10")),
                                   refusal: "the summary 'tea' is not 'user - machine'")
        let plan = Self.plan([Self.machine("bigmem1", [unknownUser, garbage, unknownMachine, later]), Self.machine("bigmem2", [unknownUser, garbage, unknownMachine, later])],
                             skipped: [SkippedEvent(id: "c", summary: "bob - bigmem1", firstDay: Self.night, reason: "the event is cancelled (STATUS:CANCELLED)"),
                                       SkippedEvent(id: "x", summary: "", reason: "broken iCalendar: libical cannot parse it"),
                                       SkippedEvent(id: "y", summary: "", firstDay: Self.day("2026-12-08"), reason: "the event is cancelled (STATUS:CANCELLED)")])
        #expect(plan.refused.map { "\($0.event): \($0.reason)" } == [
            "c: the event is cancelled (STATUS:CANCELLED)",
            "x: broken iCalendar: libical cannot parse it",
            "g: the summary 'coffee' is not 'user - machine'",
            "m: no bookable machine is named 'bigmem9' (bookable: bigmem1, bigmem2)",
            "u: user 'zoe' is not in the lab's directory",
        ])
        #expect(plan.machines.map(\.action) == [.idle, .idle])
    }

    @Test func usersAreRemindedOnceBeforeTheirBookingEndsUnlessTheyGoOn() {
        let machines = [
            Self.machine("bigmem1", [Self.booking("a", "alice", "bigmem1", "2026-12-01", "2026-12-11")]),
            // Ends tomorrow, but bob has the next days too.
            Self.machine("bigmem2", [Self.booking("b", "bob", "bigmem2", "2026-12-01", "2026-12-10"), Self.booking("b2", "bob", "bigmem2", "2026-12-11", "2026-12-20")]),
            // Kept data: nothing to remind.
            Self.machine("bigmem3", [Self.booking("c", "carol", "bigmem3", "2026-12-01", "2026-12-09")], data: .kept),
            // Ends in three days: not yet.
            Self.machine("bigmem4", [Self.booking("d", "dave", "bigmem4", "2026-12-01", "2026-12-12")]),
        ]
        #expect(Self.plan(machines).reminders.map(\.booking.id) == ["a"])
        #expect(Self.plan(machines, reminded: ["a 2026-12-11"]).reminders.isEmpty)
        // Extended by the admins: reminded again before its new end.
        var extended = machines
        extended[0] = Self.machine("bigmem1", [Self.booking("a", "alice", "bigmem1", "2026-12-01", "2026-12-10")])
        #expect(Self.plan(extended, reminded: ["a 2026-12-11"]).reminders.map(\.booking.id) == ["a"])
    }
}
