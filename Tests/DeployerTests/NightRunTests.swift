import Bookings
import Calendars
import DefinitionEvaluation
import Foundation
import ImageDSL
import ImagecCore
import Mail
import SwapLedger
import Targets
import Testing

/// The nightly job's state machine, with the real calendar and mail servers (Radicale and
/// aiosmtpd on 127.0.0.1) and the real evaluation of bookable definitions, but machines that
/// only count what is done to them (BookingsEndToEndTests deploys real ones).
struct NightRunTests {
    /// Machines that record builds, tests and deploys; a machine already running an image is
    /// not deployed again, as `FleetMachines` does.
    final class Machines: BookedMachines, @unchecked Sendable {
        private let lock = NSLock()
        private var _deploys: [String] = [], _running: [String: String] = [:], _tests: [String] = []
        var failing: Set<String> = []
        var deploys: [String] { lock.withLock { _deploys } }
        var tests: [String] { lock.withLock { _tests } }
        func running(_ host: String) -> String? { lock.withLock { _running[host] } }

        func build(_ host: BookedHost, progress: ProgressReporter) throws -> String {
            "sha256:" + CanonicalJSON.sha256(try CanonicalJSON.encode(host.model))
        }

        func test(_ host: BookedHost, progress: ProgressReporter) throws { lock.withLock { _tests.append(host.model.hostName) } }

        func deploy(_ hosts: [BookedHost], progress: ProgressReporter) async -> [HostDeployer.Outcome] {
            hosts.map { host in
                let name = host.model.hostName, digest = try! build(host, progress: .silent)
                return lock.withLock {
                    if _running[name] == digest { return HostDeployer.Outcome(host: name, swap: 1, result: .healthy) }
                    if failing.contains(name) { return HostDeployer.Outcome(host: name, swap: 2, result: .failed, failure: "check 'boot' failed: degraded") }
                    _deploys.append(name)
                    _running[name] = digest
                    return HostDeployer.Outcome(host: name, swap: Int64(_deploys.count), result: .healthy)
                }
            }
        }

        func connection(_ host: BookedHost, user: String) throws -> BookingMails.Connection {
            BookingMails.Connection(command: "ssh \(user)@\(host.model.hostName).lab.example", fingerprints: ["256 SHA256:Wq4yZa1rF+bOQl/w9xiGyN6y5bq6BSjUcLq3+GB9BJk (ED25519)"],
                                    knownHosts: ["\(host.model.hostName).lab.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOf\(host.model.hostName)"])
        }
    }

    /// Mails kept in memory.
    final class Outbox: Mailer, @unchecked Sendable {
        private let lock = NSLock()
        private var _sent: [MailMessage] = []
        var sent: [MailMessage] { lock.withLock { _sent } }
        func send(_ message: MailMessage) throws { lock.withLock { _sent.append(message) } }
    }

    /// Two bookable machines in definitions of their own: the lab's format `user - machine`, an option.
    static func definitions(in folder: URL) throws -> [String] {
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("systems"), withIntermediateDirectories: true)
        return try ["bm001", "bm002"].map { name in
            let file = folder.appendingPathComponent("systems/\(name).swift")
            try """
                import ImageDSL

                let people = Directory {
                    Account("alice", uid: 2001, mail: "alice@lab.example", fullName: "Alice Martin",
                            sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJuX8+rxvvy5cCq6JpWA41kqg3agrhGJcMpfSKgjRqfD alice@lab"])
                    Account("bob", uid: 2002, mail: "bob@lab.example")
                    Account("dave", uid: 2004, mail: "dave@lab.example")
                    Account("erin", uid: 2005, mail: "erin@lab.example")
                }

                /// GRR's export: `user - machine` in the summary, the form's fields in the description.
                @Sendable func grr(_ event: CalendarEvent) throws -> BookingRequest {
                    let parts = event.summary.split(separator: " - ").map(String.init)
                    guard parts.count == 2 else { throw BookingRefusal("the summary '\\(event.summary)' is not 'user - machine'") }
                    return BookingRequest(user: parts[0], machine: parts[1], options: event.fields.filter { $0.key == "MBBWorkflow" })
                }

                let system = OperatingSystem {
                    HostName("\(name)")
                    Disk { PersistentVolume("home", mountPoint: "/home", size: .gibibytes(1), fileSystem: .xfs) }
                    Deployment(to: .local("\(folder.path)/pool"), disk: "\(name)-root", machine: .libvirt("\(name)"))
                }

                let bookable = Bookable(system, directory: people, parse: grr,
                                        options: [BookingOption("MBBWorkflow", values: ["Oui", "Non"], default: "Non")],
                                        previousUsersData: .wiped, remindDaysBefore: 1) { booking in
                    booking.user(sudo: .withoutPassword)
                    if booking.option("MBBWorkflow") == "Oui" { Packages("snakemake") }
                }

                """.write(to: file, atomically: true, encoding: .utf8)
            return file.path
        }
    }

    static let clock = Date(timeIntervalSince1970: 1_796_601_600)  // 2026-12-07T00:05:00Z

    static func run(_ night: String, calendar: any BookingCalendar, definitions: [String], ledger: NightLedger, mailer: any Mailer,
                    machines: Machines, crashingAt crash: String? = nil) -> NightRun {
        let evaluator = try! Evaluator.standard()
        var run = NightRun(night: CalendarDay(night)!, calendar: calendar, definitions: definitions, ledger: ledger, mailer: mailer,
                           mails: BookingMails(from: "imagec <imagec@lab.example>", admins: ["admins@lab.example"], clock: { clock }),
                           machines: machines, evaluate: { try evaluator.evaluate($0, bookings: $1) }, progress: .silent)
        run.beforeStep = { step in if step == crash { throw Crash(step: step) } }
        return run
    }

    struct Crash: Error { var step: String }

    static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-nights-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func threeNightsOfTwoUsersWithTheirMails() async throws {
        let folder = try Self.folder()
        let servers = try BookingServers(folder: folder.appendingPathComponent("servers"))
        defer { servers.stop(); try? FileManager.default.removeItem(at: folder) }
        // alice on the 7th, again on the 8th (her own continuation); bob on the 9th, with the bioco variant.
        try servers.book(uid: "grr-101", summary: "alice - bm001", first: "2026-12-07")
        try servers.book(uid: "grr-102", summary: "alice - bm001", first: "2026-12-08")
        try servers.book(uid: "grr-103", summary: "bob - bm001", description: "Projet: phylogénie\nMBBWorkflow: Oui", first: "2026-12-09", days: 2)
        // What the night of the 9th refuses, bm001's own booking proceeding.
        try servers.book(uid: "grr-201", summary: "dave - bm002", first: "2026-12-09")
        try servers.book(uid: "grr-202", summary: "erin - bm002", first: "2026-12-09")
        try servers.book(uid: "grr-203", summary: "zoe - bm001", first: "2026-12-09")
        try servers.book(uid: "grr-204", summary: "alice - bigmem9", first: "2026-12-09")
        try servers.book(uid: "grr-205", summary: "réunion d'équipe", first: "2026-12-09")
        try servers.book(uid: "grr-206", summary: "bob - bm002", first: "2026-12-09", extra: "STATUS:CANCELLED\r\n")
        try servers.book(uid: "grr-207", summary: "alice - bm001", description: "MBBWorkflow: Peut-être", first: "2026-12-09")

        let definitions = try Self.definitions(in: folder)
        let ledger = try NightLedger(path: folder.appendingPathComponent("bookings.sqlite"))
        let calendar = CalDAVCalendar(url: servers.calendarURL, credentials: try Credentials(file: servers.credentials.path, what: "the calendar's credentials file"),
                                      timeZone: "Europe/Paris")
        let mailer = SMTPMailer(server: servers.smtpURL)
        let machines = Machines()
        func night(_ day: String) async throws -> NightReport {
            try await Self.run(day, calendar: calendar, definitions: definitions, ledger: ledger, mailer: mailer, machines: machines).run()
        }

        // Night 1: alice's bm001. Her booking goes on tomorrow: no reminder yet.
        let first = try await night("2026-12-07")
        #expect(first.machines.map { "\($0.machine) \($0.result.rawValue) \($0.user ?? "-")" } == ["bm001 reinstalled alice", "bm002 idle -"])
        #expect(machines.deploys == ["bm001"] && machines.tests == ["bm001"])
        var mails = servers.mails()
        #expect(mails.map { "\($0.headers["To"]!): \($0.headers["Subject"]!)" } == [
            "alice@lab.example: bm001 is ready for your booking (2026-12-07 to 2026-12-07)",
            "admins@lab.example: imagec bookings, night of 2026-12-07: 1 reinstalled",
        ])
        let ready = mails[0].body
        #expect(ready.contains("Hello Alice Martin,") && ready.contains("    ssh alice@bm001.lab.example\n")
                && ready.contains("    256 SHA256:Wq4yZa1rF+bOQl/w9xiGyN6y5bq6BSjUcLq3+GB9BJk (ED25519)\n")
                && ready.contains("It is wiped when the next user's booking starts after yours"), "\(ready)")
        #expect(mails[0].headers["Message-ID"] == "<imagec-ready-2026-12-07-bm001-grr-101@lab.example>")

        // Night 2: alice continues; nothing is reinstalled; she is reminded once her booking ends.
        let second = try await night("2026-12-08")
        #expect(second.machines.map { "\($0.machine) \($0.result.rawValue)" } == ["bm001 kept", "bm002 idle"])
        #expect(second.machines[0].reason == "continues alice's booking of 2026-12-07 to 2026-12-07: nothing is reinstalled, alice's data stays")
        #expect(machines.deploys == ["bm001"])
        mails = servers.mails()
        #expect(mails.dropFirst(2).map { "\($0.headers["To"]!): \($0.headers["Subject"]!)" } == [
            "alice@lab.example: Your booking of bm001 ends on 2026-12-08: copy your data",
            "admins@lab.example: imagec bookings, night of 2026-12-08: 0 reinstalled, 1 reminded",
        ])

        // Night 3: bob, with MBBWorkflow; every bad event refused with its reason, bm001 proceeding.
        let third = try await night("2026-12-09")
        #expect(third.machines.map { "\($0.machine) \($0.result.rawValue) \($0.user ?? "-")" } == ["bm001 reinstalled bob", "bm002 idle -"])
        #expect(machines.deploys == ["bm001", "bm001"])
        #expect(third.plan.machines[0].booking?.options == ["MBBWorkflow": "Oui"])
        #expect(third.plan.refused.map { "\($0.event): \($0.reason)" } == [
            "grr-206: the event is cancelled (STATUS:CANCELLED)",
            "grr-203: user 'zoe' is not in the lab's directory",
            "grr-204: no bookable machine is named 'bigmem9' (bookable: bm001, bm002)",
            "grr-205: the summary 'réunion d'équipe' is not 'user - machine'",
            "grr-207: option 'MBBWorkflow' is 'Peut-être', not one of Oui, Non",
            "grr-201: it overlaps another user's booking of bm002 tonight (dave, erin)",
            "grr-202: it overlaps another user's booking of bm002 tonight (dave, erin)",
        ])
        mails = servers.mails()
        #expect(mails.dropFirst(4).map { "\($0.headers["To"]!): \($0.headers["Subject"]!)" } == [
            "bob@lab.example: bm001 is ready for your booking (2026-12-09 to 2026-12-10)",
            "admins@lab.example: imagec bookings, night of 2026-12-09: 1 reinstalled, 7 refused",
        ])
        #expect(mails[4].body.contains("(MBBWorkflow: Oui)"))
        let summary = mails[5].body
        #expect(summary.contains("Reinstalled:\n  - bm001 for bob (bob's booking of 2026-12-09 to 2026-12-10 starts tonight (it runs alice's booking of 2026-12-08 to 2026-12-08; their data: wiped))")
                && summary.contains("  - 'réunion d'équipe' (2026-12-09): the summary 'réunion d'équipe' is not 'user - machine'"), "\(summary)")

        // Night 3 again: nothing happens, no mail.
        let again = try await night("2026-12-09")
        #expect(again.machines.map { "\($0.machine) \($0.result.rawValue)" } == ["bm001 reinstalled", "bm002 idle"])
        #expect(machines.deploys == ["bm001", "bm001"] && servers.mails().count == 6)
    }

    @Test func aRunKilledAtEachStepIsFinishedByTheNextWithoutDoingAnythingTwice() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let definitions = try Self.definitions(in: folder)
        let calendarFile = folder.appendingPathComponent("bookings.ics")
        try CalendarTests.calendar("""
            BEGIN:VEVENT\r
            UID:b1\r
            DTSTART;VALUE=DATE:20261207\r
            DTEND;VALUE=DATE:20261209\r
            SUMMARY:alice - bm001\r
            END:VEVENT\r
            BEGIN:VEVENT\r
            UID:b2\r
            DTSTART;VALUE=DATE:20261207\r
            SUMMARY:bob - bm002\r
            END:VEVENT\r

            """).write(to: calendarFile, atomically: true, encoding: .utf8)
        let calendar = ICSCalendar(location: calendarFile.path, timeZone: "Europe/Paris")
        for step in NightStep.allCases.filter({ $0 != .done }).map({ "bookings-\($0.rawValue)" }) + ["bookings-summary"] {
            let ledger = try NightLedger(path: folder.appendingPathComponent("\(step).sqlite"))
            let machines = Machines(), outbox = Outbox()
            await #expect(throws: Crash.self, "\(step)") {
                try await Self.run("2026-12-07", calendar: calendar, definitions: definitions, ledger: ledger, mailer: outbox, machines: machines, crashingAt: step).run()
            }
            let report = try await Self.run("2026-12-07", calendar: calendar, definitions: definitions, ledger: ledger, mailer: outbox, machines: machines).run()
            #expect(report.machines.map(\.result) == [.reinstalled, .reinstalled], "\(step)")
            #expect(machines.deploys.sorted() == ["bm001", "bm002"], "\(step): \(machines.deploys)")
            #expect(outbox.sent.map(\.subject).sorted() == [
                "bm001 is ready for your booking (2026-12-07 to 2026-12-08)", "bm002 is ready for your booking (2026-12-07 to 2026-12-07)",
                "imagec bookings, night of 2026-12-07: 2 reinstalled",
            ], "\(step)")
            // And once more: nothing.
            _ = try await Self.run("2026-12-07", calendar: calendar, definitions: definitions, ledger: ledger, mailer: outbox, machines: machines).run()
            #expect(machines.deploys.count == 2 && outbox.sent.count == 3, "\(step)")
        }
    }

    @Test func aFailedReinstallIsReportedAndNotRetriedTheSameNight() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let definitions = try Self.definitions(in: folder)
        let calendarFile = folder.appendingPathComponent("bookings.ics")
        try CalendarTests.calendar("BEGIN:VEVENT\r\nUID:b1\r\nDTSTART;VALUE=DATE:20261207\r\nSUMMARY:alice - bm001\r\nEND:VEVENT\r\n")
            .write(to: calendarFile, atomically: true, encoding: .utf8)
        let ledger = try NightLedger(path: folder.appendingPathComponent("night.sqlite"))
        let machines = Machines(), outbox = Outbox()
        machines.failing = ["bm001"]
        let run = Self.run("2026-12-07", calendar: ICSCalendar(location: calendarFile.path, timeZone: "Europe/Paris"), definitions: definitions,
                           ledger: ledger, mailer: outbox, machines: machines)
        let report = try await run.run()
        #expect(report.failed && report.machines[0].failure == "check 'boot' failed: degraded")
        #expect(outbox.sent.map { "\($0.to): \($0.subject)" } == ["[\"admins@lab.example\"]: imagec bookings, night of 2026-12-07: 0 reinstalled, 1 failed"])
        #expect(outbox.sent[0].body.contains("Failed, back on what they ran before:\n  - bm001 for alice: check 'boot' failed: degraded"))
        _ = try await run.run()
        #expect(outbox.sent.count == 1)
        // Once the admins fixed it, asked again: reinstalled, alice mailed.
        machines.failing = []
        var retry = run
        retry.retryFailed = true
        let retried = try await retry.run()
        #expect(retried.machines.map { "\($0.machine) \($0.result.rawValue)" } == ["bm001 reinstalled", "bm002 idle"], "\(retried.machines)")
        // (The night's summary went out with the first run.)
        #expect(outbox.sent.map(\.to) == [["admins@lab.example"], ["alice@lab.example"]], "\(outbox.sent.map(\.subject))")
    }

    @Test func aDefinitionThatDoesNotEvaluateLeavesItsMachineAndTheOthersProceed() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let definitions = try Self.definitions(in: folder)
        try "import ImageDSL\n\nlet system = OperatingSystem {\n    HostName(\"bm003\")\n    Packages(42)\n}\n"
            .write(to: folder.appendingPathComponent("systems/bm003.swift"), atomically: true, encoding: .utf8)
        let calendarFile = folder.appendingPathComponent("bookings.ics")
        try CalendarTests.calendar("BEGIN:VEVENT\r\nUID:b1\r\nDTSTART;VALUE=DATE:20261207\r\nSUMMARY:alice - bm001\r\nEND:VEVENT\r\n")
            .write(to: calendarFile, atomically: true, encoding: .utf8)
        let machines = Machines(), outbox = Outbox()
        // bm002 declared bookable by a second file too: which one is meant is not imagec's guess.
        let again = folder.appendingPathComponent("systems/bm002-again.swift")
        try FileManager.default.copyItem(at: folder.appendingPathComponent("systems/bm002.swift"), to: again)
        let report = try await Self.run("2026-12-07", calendar: ICSCalendar(location: calendarFile.path, timeZone: "Europe/Paris"),
                                        definitions: definitions + [folder.appendingPathComponent("systems/bm003.swift").path, again.path],
                                        ledger: try NightLedger(path: folder.appendingPathComponent("night.sqlite")), mailer: outbox, machines: machines).run()
        #expect(report.machines.map { "\($0.machine) \($0.result.rawValue)" } == ["bm001 reinstalled"])
        #expect(report.plan.brokenDefinitions.count == 2 && report.plan.brokenDefinitions[0].contains("bm003.swift:5:")
                && report.plan.brokenDefinitions[1].hasSuffix("bm002-again.swift: 'bm002' is declared bookable here and in \(definitions[1]): bm002 is left as it is"),
                "\(report.plan.brokenDefinitions)")
        #expect(outbox.sent.last?.subject == "imagec bookings, night of 2026-12-07: 1 reinstalled, 2 definitions broken")
    }

    @Test func aCalendarThatDoesNotAnswerReinstallsNothingAndTellsTheAdminsOnce() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let definitions = try Self.definitions(in: folder)
        let ledger = try NightLedger(path: folder.appendingPathComponent("night.sqlite"))
        let machines = Machines(), outbox = Outbox()
        let run = Self.run("2026-12-07", calendar: CalDAVCalendar(url: "http://127.0.0.1:\(BMCTests.freePort())/cal/", credentials: nil, timeZone: "Europe/Paris"),
                           definitions: definitions, ledger: ledger, mailer: outbox, machines: machines)
        await #expect(throws: CalendarError.self) { try await run.run() }
        await #expect(throws: CalendarError.self) { try await run.run() }
        #expect(machines.deploys.isEmpty && outbox.sent.map(\.subject) == ["imagec bookings, night of 2026-12-07: the calendar could not be read"])
        #expect(outbox.sent[0].body.hasPrefix("imagec bookings did not reinstall anything on the night of 2026-12-07: the CalDAV calendar http://127.0.0.1:"))
    }

    /// `imagec bookings plan` on the lab's own bigmem2 and templates: GRR's format, the bioco
    /// variant; and the configuration's mistakes, each named where it is.
    @Test func theCommandLinePlansTheNightAndNamesBadConfiguration() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("systems"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: DeployTests.repository.appendingPathComponent("templates"), to: folder.appendingPathComponent("templates"))
        try FileManager.default.copyItem(at: DeployTests.repository.appendingPathComponent("systems/bigmem2.swift"), to: folder.appendingPathComponent("systems/bigmem2.swift"))
        try CalendarTests.calendar("""
            BEGIN:VEVENT\r
            UID:grr-1\r
            DTSTART;TZID=Europe/Paris:20261207T000000\r
            DTEND;TZID=Europe/Paris:20261209T000000\r
            SUMMARY:bob - bigmem2\r
            DESCRIPTION:Projet: phylogénie\\nMBBWorkflow: Oui\r
            END:VEVENT\r

            """).write(to: folder.appendingPathComponent("bookings.ics"), atomically: true, encoding: .utf8)
        func configure(_ text: String) throws {
            try (text + "definitions = systems\nsmtp = smtp://127.0.0.1:1\nfrom = imagec@lab.example\nadmins = admins@lab.example\nstate = night.sqlite\n")
                .write(to: folder.appendingPathComponent("bookings.conf"), atomically: true, encoding: .utf8)
        }
        try configure("# GRR's calendar, exported\ncalendar-file = bookings.ics\ntime-zone = Europe/Paris\n")
        // The evaluations' cache (its compiled modules) shared with the suite's other runs.
        let cache = ["IMAGEC_CACHE_DIR": FileManager.default.temporaryDirectory.appendingPathComponent("imagec-bookings-cache").path]
        let plan = try DeployTests.imagec(["bookings", "plan", "--config", "bookings.conf", "--date", "2026-12-07"], in: folder, environment: cache)
        #expect(plan.status == 0 && plan.output.contains("""
            night of 2026-12-07:
              bigmem2: reinstall for bob (2026-12-07 to 2026-12-08, MBBWorkflow: Oui)
                bob's booking of 2026-12-07 to 2026-12-08 starts tonight
            """), "\(plan.output)")
        let json = try DeployTests.imagec(["bookings", "plan", "--config", "bookings.conf", "--date", "2026-12-08", "--json", "-q"], in: folder, environment: cache)
        let decoded = try JSONDecoder().decode(NightPlan.self, from: Data(json.output.utf8))
        #expect(decoded.machines.map { "\($0.machine) \($0.action.rawValue)" } == ["bigmem2 keep"])

        try configure("calendar-file = bookings.ics\ncalendar = https://cloud.lab.example/dav/\n")
        let both = try DeployTests.imagec(["bookings", "plan", "--config", "bookings.conf"], in: folder)
        #expect(both.status == 2 && both.output.contains("bookings.conf:2: error: set 'calendar' or 'calendar-file', not both"), "\(both.output)")
        try configure("calendar = https://cloud.lab.example/dav/\ncalendar-credentials = calendar.credentials\nsmtp-tls = maybe\n")
        let tls = try DeployTests.imagec(["bookings", "plan", "--config", "bookings.conf"], in: folder)
        #expect(tls.status == 2 && tls.output.contains("bookings.conf:3: error: 'smtp-tls' is 'optional' or 'required', not 'maybe'"), "\(tls.output)")
        try configure("calendar = https://cloud.lab.example/dav/\ncalendar-credentials = calendar.credentials\n")
        try "imagec:secret\n".write(to: folder.appendingPathComponent("calendar.credentials"), atomically: true, encoding: .utf8)
        chmod(folder.appendingPathComponent("calendar.credentials").path, 0o644)
        let readable = try DeployTests.imagec(["bookings", "plan", "--config", "bookings.conf"], in: folder)
        #expect(readable.status == 2 && readable.output.contains("calendar.credentials can be read by others (mode 644): chmod 600"), "\(readable.output)")
        let date = try DeployTests.imagec(["bookings", "run", "--config", "bookings.conf", "--date", "tomorrow"], in: folder)
        #expect(date.status == 2 && date.output.contains("--date must be a day such as 2026-12-07, not 'tomorrow'"), "\(date.output)")
        let missing = try DeployTests.imagec(["bookings", "plan", "--config", "nowhere.conf"], in: folder)
        #expect(missing.status == 2 && missing.output.contains("cannot read the bookings configuration nowhere.conf"), "\(missing.output)")
    }

    @Test func twoRunsCannotRunAtOnce() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // In a folder the first run makes.
        let path = folder.appendingPathComponent("var/lib/imagec/bookings.sqlite.lock").path
        let first = try RunLock(path: path)
        #expect(throws: BookingsError.self) { try RunLock(path: path) }
        withExtendedLifetime(first) {}
    }
}
