import Calendars
import Foundation
import ImagecCore
import Mail

/// The site's configuration of the nightly booking job (`/etc/imagec/bookings.conf`): where the
/// calendar is and how to log in to it, which definitions hold the bookable machines, the mail
/// server, who gets the summary. Configuration, not code: it stays out of the definitions
/// repository, and its passwords are in files of their own, readable by their owner only.
///
///     # The calendar GRR writes validated bookings to (CalDAV), or `calendar-file = bookings.ics`.
///     calendar = https://cloud.lab.example/remote.php/dav/calendars/imagec/bigmems/
///     calendar-credentials = /etc/imagec/calendar.credentials
///     definitions = /srv/imagec/systems
///     time-zone = Europe/Paris
///     smtp = smtp://mail.lab.example:25
///     from = imagec <imagec@lab.example>
///     admins = admins@lab.example
///
/// Relative paths are read from the file's folder.
public struct BookingsConfiguration: Sendable {
    /// A CalDAV collection's URL, or an iCalendar file's path or URL.
    public var calendar: String
    public var calendarIsFile: Bool
    public var calendarCredentials: String?
    public var calendarCA: String?
    /// Folders of definition files (every `*.swift` in them) and definition files.
    public var definitions: [String]
    /// The network installer's definition, for bare-metal machines (default: `installer.swift`
    /// in the first definitions folder).
    public var installer: String?
    public var timeZone: String
    public var smtp: String
    public var smtpCredentials: String?
    public var smtpCA: String?
    public var smtpRequireTLS: Bool
    public var from: String
    public var admins: [String]
    /// The record of each night (default `/var/lib/imagec/bookings.sqlite`).
    public var state: String

    public static let defaultPath = "/etc/imagec/bookings.conf"

    /// Reads the file at `path`; a bad line is reported at its line.
    public init(file path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UsageError("cannot read the bookings configuration \(path): write it (see the README's \"Bookings\") or give --config FILE")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        var values: [String: (value: String, line: Int)] = [:]
        for (index, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw UsageError("expected `name = value`, found '\(line)'", file: "\(path):\(index + 1)")
            }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces), value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard Self.names.contains(name) else {
                throw UsageError("unknown setting '\(name)' (known: \(Self.names.sorted().joined(separator: ", ")))", file: "\(path):\(index + 1)")
            }
            if let first = values[name] { throw UsageError("'\(name)' is set twice (first on line \(first.line))", file: "\(path):\(index + 1)") }
            values[name] = (value, index + 1)
        }
        func resolved(_ value: String) -> String { value.hasPrefix("/") || value.contains("://") ? value : folder.appendingPathComponent(value).path }
        func required(_ name: String) throws -> String {
            guard let value = values[name]?.value, !value.isEmpty else { throw UsageError("'\(name)' is not set", file: path) }
            return value
        }
        switch (values["calendar"], values["calendar-file"]) {
        case (let calendar?, nil): self.calendar = calendar.value; calendarIsFile = false
        case (nil, let file?): self.calendar = resolved(file.value); calendarIsFile = true
        case (nil, nil): throw UsageError("set 'calendar' (a CalDAV collection's URL) or 'calendar-file' (an .ics file or URL)", file: path)
        case (let calendar?, let file?): throw UsageError("set 'calendar' or 'calendar-file', not both", file: "\(path):\(max(calendar.line, file.line))")
        }
        if !calendarIsFile && !(calendar.hasPrefix("https://") || calendar.hasPrefix("http://")) {
            throw UsageError("'calendar' must be an http(s) URL of a CalDAV collection", file: "\(path):\(values["calendar"]!.line)")
        }
        calendarCredentials = values["calendar-credentials"].map { resolved($0.value) }
        calendarCA = values["calendar-ca"].map { resolved($0.value) }
        definitions = try required("definitions").split(separator: " ").map { resolved(String($0)) }
        installer = values["installer"].map { resolved($0.value) }
        timeZone = values["time-zone"]?.value ?? Self.hostTimeZone()
        smtp = try required("smtp")
        guard smtp.hasPrefix("smtp://") || smtp.hasPrefix("smtps://") else {
            throw UsageError("'smtp' must be smtp://HOST[:PORT] or smtps://HOST[:PORT]", file: "\(path):\(values["smtp"]!.line)")
        }
        smtpCredentials = values["smtp-credentials"].map { resolved($0.value) }
        smtpCA = values["smtp-ca"].map { resolved($0.value) }
        switch values["smtp-tls"]?.value ?? "optional" {
        case "optional": smtpRequireTLS = false
        case "required": smtpRequireTLS = true
        case let other: throw UsageError("'smtp-tls' is 'optional' or 'required', not '\(other)'", file: "\(path):\(values["smtp-tls"]!.line)")
        }
        from = try required("from")
        admins = try required("admins").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        state = values["state"].map { resolved($0.value) } ?? "/var/lib/imagec/bookings.sqlite"
    }

    static let names: Set<String> = [
        "calendar", "calendar-file", "calendar-credentials", "calendar-ca", "definitions", "installer", "time-zone",
        "smtp", "smtp-credentials", "smtp-ca", "smtp-tls", "from", "admins", "state",
    ]

    /// The calendar it names, its credentials read (a file others can read is refused).
    public func bookingCalendar() throws -> any BookingCalendar {
        let credentials = try calendarCredentials.map { try Credentials(file: $0, what: "the calendar's credentials file") }
        return calendarIsFile ? ICSCalendar(location: calendar, credentials: credentials, caFile: calendarCA, timeZone: timeZone)
            : CalDAVCalendar(url: calendar, credentials: credentials, caFile: calendarCA, timeZone: timeZone)
    }

    /// The mail server it names.
    public func mailer() throws -> any Mailer {
        SMTPMailer(server: smtp, credentials: try smtpCredentials.map { try Credentials(file: $0, what: "the mail server's credentials file") },
                   caFile: smtpCA, requireTLS: smtpRequireTLS)
    }

    /// The definition files: every `*.swift` of each folder, in name order, and the files named.
    public func definitionFiles() throws -> [String] {
        try definitions.flatMap { entry -> [String] in
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: entry, isDirectory: &isFolder) else {
                throw UsageError("the bookings configuration names \(entry) in 'definitions', which does not exist")
            }
            guard isFolder.boolValue else { return [entry] }
            return try FileManager.default.contentsOfDirectory(atPath: entry).filter { $0.hasSuffix(".swift") }.sorted()
                .map { URL(fileURLWithPath: entry).appendingPathComponent($0).path }
        }
    }

    /// The host's time zone: `/etc/timezone`, else where `/etc/localtime` points, else UTC.
    static func hostTimeZone() -> String {
        if let text = try? String(contentsOfFile: "/etc/timezone", encoding: .utf8) {
            let zone = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !zone.isEmpty { return zone }
        }
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/etc/localtime"), let range = target.range(of: "zoneinfo/") {
            return String(target[range.upperBound...])
        }
        return "UTC"
    }
}
