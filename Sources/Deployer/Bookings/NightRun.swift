import Calendars
import DefinitionEvaluation
import Foundation
import ImageDSL
import ImagecCore
import Mail
import Targets

/// One night of the booking job (`imagec bookings run`): the calendar read, the bookable
/// definitions handed its events, the night planned (``NightPlanner``), then each machine
/// whose booking starts tonight reinstalled — built, tested, deployed with the fleet's checks
/// and rollback, its user mailed — each step recorded in the ``NightLedger`` before it is
/// taken, so that a run killed anywhere is finished by the next, without a second reinstall
/// or mail. Reminders go out once; the admins get one summary per night.
public struct NightRun: Sendable {
    public var night: CalendarDay
    public var calendar: any BookingCalendar
    public var definitions: [String]
    public var ledger: NightLedger
    public var mailer: any Mailer
    public var mails: BookingMails
    public var machines: any BookedMachines
    /// Evaluates a definition with the night's events.
    public var evaluate: @Sendable (String, BookingInput) throws -> Evaluation
    public var progress: ProgressReporter
    /// Whether a machine whose reinstall failed earlier this night is reinstalled again
    /// (`imagec bookings run --retry-failed`); a rerun leaves it failed otherwise.
    public var retryFailed = false
    /// Runs once a step's intent is recorded, before the step (`bookings-deploy`…): where tests stop a run.
    public var beforeStep: @Sendable (String) throws -> Void = { FaultInjection.pause(before: $0) }

    public init(night: CalendarDay, calendar: any BookingCalendar, definitions: [String], ledger: NightLedger, mailer: any Mailer,
                mails: BookingMails, machines: any BookedMachines, evaluate: @escaping @Sendable (String, BookingInput) throws -> Evaluation,
                progress: ProgressReporter) {
        self.night = night
        self.calendar = calendar
        self.definitions = definitions
        self.ledger = ledger
        self.mailer = mailer
        self.mails = mails
        self.machines = machines
        self.evaluate = evaluate
        self.progress = progress
    }

    /// A night planned: the plan and, for each machine to reinstall, its booked host.
    public struct Night: Sendable {
        public var plan: NightPlan
        public var hosts: [String: BookedHost]
        public var bookables: [String: BookableModel]
    }

    /// Reads the calendar and the definitions and plans the night; changes nothing.
    public func plan() throws -> Night {
        progress("reading \(calendar.description)")
        // Yesterday, for the bookings tonight's continue; the next days, for the reminders.
        let read = try calendar.events(from: night.adding(days: -1), through: night.adding(days: Bookable.maximumReminderDays + 1))
        progress("\(read.events.count) bookings in the calendar from \(night.adding(days: -1)) to \(night.adding(days: Bookable.maximumReminderDays + 1))"
                 + (read.skipped.isEmpty ? "" : ", \(read.skipped.count) events skipped"))
        let input = BookingInput(night: night, events: read.events.sorted { $0.id < $1.id })
        var bookable: [BookableMachine] = [], evaluations: [String: (String, Evaluation)] = [:], broken: [String] = [], conflicting: Set<String> = []
        for file in definitions {
            // A definition at fault leaves its machine as it is; the others proceed.
            let evaluation: Evaluation
            do {
                evaluation = try evaluate(file, input)
            } catch {
                broken.append((error as? DefinitionError)?.diagnostics.first.map { "\($0)" } ?? "\(file): \(error)")
                progress("warning: \(file) does not evaluate: nothing it declares is reinstalled tonight")
                continue
            }
            guard let model = evaluation.bookable else { continue }
            if let other = bookable.first(where: { $0.name == model.machine }) {
                // Which one is meant is not imagec's guess: the machine is left as it is.
                broken.append("\(file): '\(model.machine)' is declared bookable here and in \(other.definition): \(model.machine) is left as it is")
                progress("warning: \(file) and \(other.definition) both declare \(model.machine) bookable: nothing is reinstalled on it tonight")
                conflicting.insert(model.machine)
                continue
            }
            bookable.append(BookableMachine(definition: file, model: model, outcomes: evaluation.bookings ?? []))
            evaluations[model.machine] = (file, evaluation)
        }
        bookable.removeAll { conflicting.contains($0.name) }
        if bookable.isEmpty { progress("warning: no definition declares a bookable machine (let bookable = Bookable(…)) in \(definitions.joined(separator: ", "))") }
        var plan = NightPlanner(night: night, machines: bookable, skipped: read.skipped, installed: try ledger.installed(),
                                reminded: try ledger.reminded()).plan()
        plan.brokenDefinitions = broken
        var hosts: [String: BookedHost] = [:]
        for machine in plan.machines where machine.action == .reinstall {
            guard let booking = machine.booking, let (file, evaluation) = evaluations[machine.machine],
                  let model = evaluation.bookings?.first(where: { $0.booking?.id == booking.id })?.system else { continue }
            hosts[machine.machine] = BookedHost(definition: file, evaluation: evaluation, model: model)
        }
        return Night(plan: plan, hosts: hosts, bookables: Dictionary(uniqueKeysWithValues: bookable.map { ($0.name, $0.model) }))
    }

    /// Carries out the night (or what an interrupted run of it left).
    public func run() async throws -> NightReport {
        let night: Night
        do {
            night = try plan()
        } catch let error as CalendarError {
            // Nothing is reinstalled; the admins are told once (a mail that fails too is said, the calendar's error stays the run's).
            do { try send(mails.calendarFailed(night: self.night, reason: error.description), kind: "calendar", booking: nil) } catch { progress("warning: \(error)") }
            throw error
        }
        var plan = night.plan
        // No reminder to a user whose machine an earlier run reinstalled tonight: their mail says when it ends.
        plan.reminders = try plan.reminders.filter { try ledger.machineNight(self.night, $0.booking.machine)?.action != .reinstall }
        var results: [String: MachineResult] = [:]
        var toDeploy: [(MachinePlan, BookedHost, String)] = []
        for machine in plan.machines {
            let reason = machine.reason
            switch machine.action {
            case .idle:
                results[machine.machine] = MachineResult(machine: machine.machine, result: .idle, reason: reason)
            case .keep:
                // Reinstalled tonight by an earlier run: as that run left it.
                if let row = try ledger.machineNight(self.night, machine.machine), row.action == .reinstall {
                    results[machine.machine] = result(of: row, reason: reason)
                    continue
                }
                // A booking that continues the one the machine runs becomes what it runs, for the next nights.
                let installed = try ledger.installed()[machine.machine]
                if let booking = machine.booking, installed?.booking != booking.id, try ledger.machineNight(self.night, machine.machine) == nil,
                   booking.firstDay == self.night || installed?.user == booking.account.name {
                    _ = try ledger.begin(self.night, booking, action: .keep, first: .done)
                }
                results[machine.machine] = MachineResult(machine: machine.machine, result: .kept, user: machine.booking?.account.name,
                                                         booking: machine.booking?.id, reason: reason)
            case .reinstall:
                guard let booking = machine.booking else { continue }
                // An earlier run's row, unless it was for another booking (the calendar changed since) or a failed one is retried.
                let earlier = try ledger.machineNight(self.night, machine.machine)
                    .flatMap { $0.booking == booking.id && !(retryFailed && $0.result == .failed) ? $0 : nil }
                let row = try earlier ?? ledger.begin(self.night, booking, action: .reinstall, first: .build)
                if row.result != .running {
                    results[machine.machine] = result(of: row, reason: reason)
                    continue
                }
                guard let host = night.hosts[machine.machine] else {
                    try ledger.finish(self.night, machine.machine, result: .failed, failure: "the booked system could not be made")
                    results[machine.machine] = result(of: try ledger.machineNight(self.night, machine.machine)!, reason: reason)
                    continue
                }
                // A machine's failure is its outcome; what the run hits itself (a crash point, its record) stops the run.
                func fail(_ error: any Error) throws {
                    try ledger.finish(self.night, machine.machine, result: .failed, failure: "\(error)")
                    results[machine.machine] = result(of: try ledger.machineNight(self.night, machine.machine)!, reason: reason)
                }
                try intend(.build, machine.machine)
                let digest: String
                do { digest = try machines.build(host, progress: progress.about(machine.machine)) } catch { try fail(error); continue }
                try ledger.record(digest: digest, self.night, machine.machine)
                try ledger.done(.build, self.night, machine.machine)
                try intend(.test, machine.machine)
                do { try machines.test(host, progress: progress.about(machine.machine)) } catch { try fail(error); continue }
                try ledger.done(.test, self.night, machine.machine)
                toDeploy.append((machine, host, digest))
            }
        }

        // The machines deployed side by side, each as far as its row says.
        for (machine, _, _) in toDeploy { try intend(.deploy, machine.machine) }
        let outcomes = await machines.deploy(toDeploy.map(\.1), progress: progress)
        for ((machine, host, _), outcome) in zip(toDeploy, outcomes) {
            try ledger.record(swap: outcome.swap, self.night, machine.machine)
            guard outcome.result == .healthy else {
                try ledger.finish(self.night, machine.machine, result: .failed, failure: outcome.failure ?? "the deploy ended \(outcome.result.rawValue)")
                results[machine.machine] = result(of: try ledger.machineNight(self.night, machine.machine)!, reason: machine.reason)
                continue
            }
            try ledger.done(.deploy, self.night, machine.machine)
            try intend(.mail, machine.machine)
            do {
                let booking = machine.booking!
                let connection = try machines.connection(host, user: booking.account.name)
                try send(mails.ready(booking, night: self.night, connection: connection, bookable: night.bookables[machine.machine]!),
                         kind: "ready", booking: booking.id)
                try ledger.done(.mail, self.night, machine.machine)
                try ledger.intend(.done, self.night, machine.machine)
                try ledger.finish(self.night, machine.machine, result: .done)
            } catch {
                // Deployed, but the user could not be told: the admins are, and a rerun mails again.
                results[machine.machine] = MachineResult(machine: machine.machine, result: .notMailed, user: machine.booking?.account.name,
                                                         booking: machine.booking?.id, reason: machine.reason, failure: "its user could not be mailed: \(error)")
                continue
            }
            results[machine.machine] = result(of: try ledger.machineNight(self.night, machine.machine)!, reason: machine.reason)
        }

        // The reminders sent are the ones reported; one that failed goes again on the next run.
        plan.reminders = plan.reminders.filter { reminder in
            do {
                try send(mails.reminder(reminder, night: self.night), kind: "reminder", booking: reminder.key)
                return true
            } catch {
                progress("warning: \(error)")
                return false
            }
        }
        let report = NightReport(night: self.night, plan: plan, machines: plan.machines.compactMap { results[$0.machine] })
        // One summary a night, unless it was quiet: a rerun that finishes an interrupted night sends it, one after it does not.
        try beforeStep("bookings-summary")
        if !report.isQuiet { try send(mails.summary(report), kind: "summary", booking: nil) }
        return report
    }

    private func intend(_ step: NightStep, _ machine: String) throws {
        try ledger.intend(step, self.night, machine)
        progress.about(machine)(.stepStarted(step.rawValue))
        try beforeStep("bookings-\(step.rawValue)")
    }

    /// Sends `message` unless it was sent already (a rerun): marked `sending` first, `sent` after.
    private func send(_ message: MailMessage, kind: String, booking: String?) throws {
        if try ledger.mailState(message.messageID) == .sent { return }
        try ledger.sending(message.messageID, night: night, kind: kind, booking: booking, recipients: message.to, subject: message.subject)
        try mailer.send(message)
        try ledger.sent(message.messageID)
        progress("mailed \(message.to.joined(separator: ", ")): \(message.subject)")
    }

    private func result(of row: NightLedger.MachineNight, reason: String) -> MachineResult {
        MachineResult(machine: row.machine, result: row.result == .done ? (row.action == .keep ? .kept : .reinstalled) : .failed,
                      user: row.user, booking: row.booking, reason: reason, digest: row.digest, swap: row.swap, failure: row.failure)
    }
}
