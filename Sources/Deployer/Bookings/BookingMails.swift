import Foundation
import ImageDSL
import Mail

/// The texts of the nightly job's mails: the user's (their machine is ready), the reminder
/// (their booking ends and their data will not stay), the admins' summary of a night.
public struct BookingMails: Sendable {
    public var from: String
    public var admins: [String]
    public var clock: @Sendable () -> Date

    public init(from: String, admins: [String], clock: @escaping @Sendable () -> Date = Date.init) {
        self.from = from
        self.admins = admins
        self.clock = clock
    }

    /// How a user reaches a booked machine.
    public struct Connection: Codable, Equatable, Sendable {
        /// `ssh alice@10.8.0.42` (with `-p` when SSH listens elsewhere than 22).
        public var command: String
        /// `256 SHA256:… (ED25519)` for each of the host's keys.
        public var fingerprints: [String]
        /// The lines to add to `~/.ssh/known_hosts`.
        public var knownHosts: [String]

        public init(command: String, fingerprints: [String], knownHosts: [String]) {
            self.command = command
            self.fingerprints = fingerprints
            self.knownHosts = knownHosts
        }
    }

    /// The mail telling `booking`'s user that their machine is ready.
    public func ready(_ booking: Booking, night: CalendarDay, connection: Connection, bookable: BookableModel) -> MailMessage {
        let name = booking.account.fullName.isEmpty ? booking.account.name : booking.account.fullName
        let options = booking.options.isEmpty ? "" : " (" + booking.options.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")"
        var body = """
            Hello \(name),

            \(booking.machine) has been reinstalled for your booking, from \(booking.firstDay) to \(booking.lastDay) included\(options).

            Connect with your SSH key:

                \(connection.command)

            The machine's SSH host key is its own and stays the same across reinstalls, so you will
            not see "REMOTE HOST IDENTIFICATION HAS CHANGED". Its fingerprint:

            \(connection.fingerprints.map { "    " + $0 }.joined(separator: "\n"))

            To trust it before you connect, add this to ~/.ssh/known_hosts:

            \(connection.knownHosts.map { "    " + $0 }.joined(separator: "\n"))

            """
        body += "\n" + dataParagraph(bookable, booking: booking) + "\n"
        body += "\nYour booking ends on \(booking.lastDay). To go on, ask the admins (\(admins.joined(separator: ", "))) to extend it, "
            + "or book the machine again from the day after: a booking of your own that follows this one keeps the machine as it is, with your data.\n"
        return message(to: [booking.account.mail], subject: "\(booking.machine) is ready for your booking (\(booking.firstDay) to \(booking.lastDay))",
                       body: body + signature, id: "ready-\(night)-\(booking.machine)-\(Self.slug(booking.id))")
    }

    /// The reminder that `booking` ends soon and its data will not stay.
    public func reminder(_ reminder: Reminder, night: CalendarDay) -> MailMessage {
        let booking = reminder.booking
        let name = booking.account.fullName.isEmpty ? booking.account.name : booking.account.fullName
        let volumes = reminder.volumes.isEmpty ? "the machine's data volumes" : reminder.volumes.joined(separator: ", ")
        let fate = reminder.policy == .snapshotted
            ? "\(volumes) will be wiped when the next user's booking starts (the admins keep a snapshot for a while, but do not count on it)"
            : "\(volumes) will be wiped when the next user's booking starts"
        let body = """
            Hello \(name),

            Your booking of \(booking.machine) ends on \(booking.lastDay). After it, \(fate).

            Copy what you want to keep before then. To go on working on \(booking.machine), ask the admins
            (\(admins.joined(separator: ", "))) to extend your booking, or book it again from the day after: a
            booking of your own that follows this one keeps the machine as it is, with your data.

            """
        return message(to: [booking.account.mail], subject: "Your booking of \(booking.machine) ends on \(booking.lastDay): copy your data",
                       body: body + signature, id: "reminder-\(booking.machine)-\(Self.slug(booking.id))-\(booking.lastDay)")
    }

    /// The admins' summary of a night.
    public func summary(_ report: NightReport) -> MailMessage {
        let failed = report.machines.filter { $0.result == .failed }, reinstalled = report.machines.filter { $0.result == .reinstalled }
        let notMailed = report.machines.filter { $0.result == .notMailed }
        var lines = ["imagec bookings, night of \(report.night).", ""]
        func section(_ title: String, _ items: [String]) {
            guard !items.isEmpty else { return }
            lines += [title] + items.map { "  - " + $0 } + [""]
        }
        section("Definitions that do not evaluate (their machines are left as they are):", report.plan.brokenDefinitions)
        section("Reinstalled:", reinstalled.map { "\($0.machine) for \($0.user ?? "?") (\($0.reason))" + ($0.digest.map { ", image \($0.prefix(19))" } ?? "") })
        section("Failed, back on what they ran before:", failed.map { "\($0.machine) for \($0.user ?? "?"): \($0.failure ?? "?")" })
        section("Reinstalled, but the user could not be mailed (run the night again to mail them):",
                notMailed.map { "\($0.machine) for \($0.user ?? "?"): \($0.failure ?? "?")" })
        section("Left as they are:", report.machines.filter { $0.result == .kept }.map { "\($0.machine): \($0.reason)" })
        section("Refused bookings:", report.plan.refused.map { refusal in
            (refusal.summary.isEmpty ? refusal.event : "'\(refusal.summary)'") + (refusal.firstDay.map { " (\($0))" } ?? "") + ": \(refusal.reason)"
        })
        section("Reminded:", report.plan.reminders.map { "\($0.booking.account.name) (\($0.booking.machine), ends \($0.booking.lastDay))" })
        let counts = ["\(reinstalled.count) reinstalled", failed.isEmpty ? nil : "\(failed.count) failed",
                      notMailed.isEmpty ? nil : "\(notMailed.count) not mailed",
                      report.plan.refused.isEmpty ? nil : "\(report.plan.refused.count) refused",
                      report.plan.reminders.isEmpty ? nil : "\(report.plan.reminders.count) reminded",
                      report.plan.brokenDefinitions.isEmpty ? nil : "\(report.plan.brokenDefinitions.count) definitions broken"].compactMap { $0 }
        return message(to: admins, subject: "imagec bookings, night of \(report.night): \(counts.joined(separator: ", "))",
                       body: lines.joined(separator: "\n") + "\n" + signature, id: "summary-\(report.night)")
    }

    /// The admins' mail of a night whose calendar could not be read.
    public func calendarFailed(night: CalendarDay, reason: String) -> MailMessage {
        message(to: admins, subject: "imagec bookings, night of \(night): the calendar could not be read",
                body: "imagec bookings did not reinstall anything on the night of \(night): \(reason).\n\n"
                    + "Run `imagec bookings run --date \(night)` once the calendar answers.\n" + signature,
                id: "calendar-\(night)")
    }

    func dataParagraph(_ bookable: BookableModel, booking: Booking) -> String {
        let volumes = bookable.volumes.isEmpty ? "" : bookable.volumes.joined(separator: ", ")
        guard !volumes.isEmpty else { return "The machine keeps no data across reinstalls: keep your data elsewhere." }
        switch bookable.previousUsersData {
        case .kept: return "Your data lives in \(volumes), on the machine's own storage; it is kept across reinstalls and not backed up."
        case .wiped: return "Your data lives in \(volumes), on the machine's own storage, not backed up. It is wiped when the next user's "
            + "booking starts after yours: copy what you need before \(booking.lastDay) ends."
        case .snapshotted: return "Your data lives in \(volumes). When the next user's booking starts, it is wiped (the admins keep a "
            + "snapshot for a while): copy what you need before \(booking.lastDay) ends."
        }
    }

    var signature: String { "\n-- \nimagec bookings, for the lab's admins (\(admins.joined(separator: ", ")))\n" }

    func message(to recipients: [String], subject: String, body: String, id: String) -> MailMessage {
        let domain = SMTPMailer.address(from).split(separator: "@").last.map(String.init) ?? "localhost"
        return MailMessage(from: from, to: recipients, subject: subject, body: body, messageID: "imagec-\(id)@\(domain)", date: clock())
    }

    /// `text` with only letters, digits, dots and dashes (for Message-IDs).
    static func slug(_ text: String) -> String {
        String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") ? $0 : "-" })
    }
}
