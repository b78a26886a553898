import ArgumentParser
import Bookings
import BootTest
import Calendars
import DefinitionEvaluation
import Fleet
import Foundation
import ImagecCore
import ImageDSL
import Pools
import SwapLedger
import Targets

/// `imagec bookings`: the nightly job that reinstalls the machines booked that day.
struct BookingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bookings",
        abstract: "Reinstall the machines booked today, from the lab's calendar, and mail each user.",
        discussion: """
            Reads the bookings calendar (CalDAV or an .ics file), hands its events to every definition \
            that declares a bookable machine (`let bookable = Bookable(…)`), and for each machine whose \
            booking starts that day builds, tests and deploys the booked system, then mails the user how to \
            connect. The site's settings are in /etc/imagec/bookings.conf (--config, $IMAGEC_BOOKINGS_CONFIG). \
            Run it every night (contrib/systemd/imagec-bookings.timer).
            """,
        subcommands: [BookingsPlanCommand.self, BookingsRunCommand.self])
}

/// What `bookings plan` and `bookings run` share.
struct BookingsOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The job's configuration (default $IMAGEC_BOOKINGS_CONFIG, else /etc/imagec/bookings.conf).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("The night, YYYY-MM-DD (default: today in the configuration's time zone).", valueName: "day"))
    var date: String?

    @Flag(name: .long, help: "Print as JSON.")
    var json = false

    @OptionGroup var output: ProgressOptions

    func validate() throws {
        if let date, CalendarDay(date) == nil { throw ValidationError("--date must be a day such as 2026-12-07, not '\(date)'") }
    }

    func configuration() throws -> BookingsConfiguration {
        try BookingsConfiguration(file: config ?? ProcessInfo.processInfo.environment["IMAGEC_BOOKINGS_CONFIG"] ?? BookingsConfiguration.defaultPath)
    }

    /// The night: --date, else today where the lab is.
    func night(in configuration: BookingsConfiguration) throws -> CalendarDay {
        if let date { return CalendarDay(date)! }
        guard let zone = TimeZone(identifier: configuration.timeZone) else {
            throw UsageError("the bookings configuration's time zone '\(configuration.timeZone)' is unknown")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day], from: Date())
        return CalendarDay(year: parts.year!, month: parts.month!, day: parts.day!)!
    }

    /// The night's job with the real calendar, definitions, store, ledgers, drivers and mail server;
    /// `deploying`: the drivers probe whether libguestfs can use KVM (seconds), which a plan need not.
    func nightRun(_ configuration: BookingsConfiguration, deploying: Bool, bootTimeout: Double = 300, jobs: Int = 4) throws -> NightRun {
        let context = output.context
        let evaluator = try Evaluator.standard()
        let store = Store(root: Store.defaultRoot)
        var rollout = try context.rollout(drivers: try context.drivers(probing: deploying ? store : nil), bootTimeout: bootTimeout, stopTimeout: 120)
        rollout.jobs = jobs
        let definitions = try configuration.definitionFiles()
        let installer = configuration.installer ?? definitions.first.map { URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("installer.swift").path }
        var machines = FleetMachines(store: store, rollout: rollout, installer: installer, objectStore: { try RADOSObjectStore($0) })
        machines.testOptions = ImageTester.Options(bootTimeout: bootTimeout)
        return NightRun(
            night: try night(in: configuration), calendar: try configuration.bookingCalendar(), definitions: definitions,
            ledger: try NightLedger(path: URL(fileURLWithPath: configuration.state)), mailer: try configuration.mailer(),
            mails: BookingMails(from: configuration.from, admins: configuration.admins), machines: machines,
            evaluate: { file, input in
                let evaluation = try evaluator.evaluate(file, bookings: input)
                evaluation.diagnostics.forEach(Report.print)
                return evaluation
            },
            progress: context.progress)
    }
}

/// `imagec bookings plan`: what tonight's run will do.
struct BookingsPlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print what the night's run will do, machine by machine; change nothing.")

    @OptionGroup var options: BookingsOptions

    func run() async throws {
        let configuration = try options.configuration()
        let night = try options.nightRun(configuration, deploying: false).plan()
        if options.json { FileHandle.standardOutput.write(try CanonicalJSON.encode(value: night.plan)) } else { Swift.print(night.plan.text) }
    }
}

/// `imagec bookings run`: the night's reinstalls and mails.
struct BookingsRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Reinstall the machines whose booking starts on the night, mail their users and the admins.",
        discussion: """
            Each machine's steps (build, test, deploy, mail) are recorded before they are taken (the \
            configuration's `state`): a run killed anywhere is finished by running it again for the same \
            night, which reinstalls nothing twice and sends no mail twice (a machine whose reinstall failed \
            stays failed that night unless --retry-failed is given). Exit status 4 when a machine's \
            reinstall failed (it is back on what it ran before) or its user could not be mailed, 1 when a definition does not evaluate (its \
            machine is left as it is, the others proceed), 3 when the calendar cannot be read (nothing \
            is reinstalled, the admins are mailed), 5 when another run holds the lock.
            """)

    @OptionGroup var options: BookingsOptions

    @Option(name: .long, help: "Seconds for SSH to answer after a machine starts (its test boot, its deploy).")
    var bootTimeout: Double = 300

    @Option(name: .long, help: "Machines deployed at once.")
    var jobs = 4

    @Flag(name: .long, help: "Reinstall again the machines whose reinstall failed earlier on the night.")
    var retryFailed = false

    func run() async throws {
        let configuration = try options.configuration()
        let lock = try RunLock(path: configuration.state + ".lock")
        var night = try options.nightRun(configuration, deploying: true, bootTimeout: bootTimeout, jobs: jobs)
        night.retryFailed = retryFailed
        let report = try await night.run()
        withExtendedLifetime(lock) {}
        if options.json {
            FileHandle.standardOutput.write(try CanonicalJSON.encode(value: report))
        } else {
            Swift.print(Table.render([["machine", "result", "user", "reason"]] + report.machines.map { machine in
                [machine.machine, machine.result.rawValue, machine.user ?? "-", machine.failure ?? machine.reason]
            }))
            for refusal in report.plan.refused {
                Swift.print("refused \(refusal.summary.isEmpty ? refusal.event : "'\(refusal.summary)'"): \(refusal.reason)")
            }
        }
        report.plan.brokenDefinitions.forEach { Report.error("does not evaluate: \($0)") }
        if report.failed { throw ChecksFailed() }
        if !report.plan.brokenDefinitions.isEmpty { throw DefinitionsInvalid() }
    }
}
