import Foundation
import Testing

/// The bookings tests' servers on 127.0.0.1: Radicale (CalDAV, Debian's package) with a
/// calendar GRR would write to, and aiosmtpd (SMTP, Debian's package) delivering into a
/// Maildir the tests read.
final class BookingServers {
    let folder: URL
    let calendarPort = BMCTests.freePort()
    let smtpPort = BMCTests.freePort()
    private var calendarServer: BMCTests.Daemon?
    private var mailServer: BMCTests.Daemon?

    var calendarURL: String { "http://127.0.0.1:\(calendarPort)/imagec/bookings/" }
    var smtpURL: String { "smtp://127.0.0.1:\(smtpPort)" }
    var maildir: URL { folder.appendingPathComponent("maildir") }
    /// USER:PASSWORD, mode 0600.
    var credentials: URL { folder.appendingPathComponent("calendar.credentials") }

    init(folder: URL) throws {
        self.folder = folder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "imagec:grr-secret\n".write(to: folder.appendingPathComponent("users"), atomically: true, encoding: .utf8)
        try "imagec:grr-secret\n".write(to: credentials, atomically: true, encoding: .utf8)
        chmod(credentials.path, 0o600)
        try """
            [server]
            hosts = 127.0.0.1:\(calendarPort)
            [auth]
            type = htpasswd
            htpasswd_filename = \(folder.path)/users
            htpasswd_encryption = plain
            [storage]
            filesystem_folder = \(folder.path)/collections
            [rights]
            type = owner_only
            [logging]
            level = warning

            """.write(to: folder.appendingPathComponent("radicale.conf"), atomically: true, encoding: .utf8)
        try startCalendar()
        try startMail()
        _ = try request("MKCALENDAR", calendarURL)
    }

    func startCalendar() throws {
        calendarServer = try BMCTests.Daemon(URL(fileURLWithPath: "/usr/bin/python3"), ["-m", "radicale", "--config", folder.appendingPathComponent("radicale.conf").path],
                                             log: folder.appendingPathComponent("radicale.log"))
        try BMCTests.wait("Radicale") { (try? request("OPTIONS", "http://127.0.0.1:\(calendarPort)/")) != nil }
    }

    func stopCalendar() {
        calendarServer?.stop()
        calendarServer = nil
    }

    func startMail() throws {
        mailServer = try BMCTests.Daemon(URL(fileURLWithPath: "/usr/bin/python3"),
                                         ["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(smtpPort)", "-c", "aiosmtpd.handlers.Mailbox", maildir.path],
                                         log: folder.appendingPathComponent("smtp.log"))
        try BMCTests.wait("aiosmtpd") {
            let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(socket) }
            var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: in_port_t(UInt16(smtpPort).bigEndian),
                                      sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
            return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
        }
    }

    /// A booking as GRR's hook writes it: one event, PUT into the calendar.
    func book(uid: String, summary: String, description: String = "", first: String, days: Int = 1, extra: String = "") throws {
        let start = first.replacingOccurrences(of: "-", with: "")
        var end = CalendarTests.day(first).adding(days: days).description.replacingOccurrences(of: "-", with: "")
        if days == 0 { end = start }
        let text = """
            BEGIN:VCALENDAR\r
            VERSION:2.0\r
            PRODID:-//GRR//bookings//FR\r
            BEGIN:VEVENT\r
            UID:\(uid)\r
            DTSTAMP:20261201T120000Z\r
            DTSTART;VALUE=DATE:\(start)\r
            DTEND;VALUE=DATE:\(end)\r
            SUMMARY:\(summary)\r
            \(description.isEmpty ? "" : "DESCRIPTION:\(description.replacingOccurrences(of: "\n", with: "\\n"))\r\n")\(extra)END:VEVENT\r
            END:VCALENDAR\r

            """
        let status = try request("PUT", calendarURL + "\(uid).ics", body: text, contentType: "text/calendar")
        #expect(status == 201 || status == 204, "PUT \(uid): HTTP \(status)")
    }

    @discardableResult
    func request(_ method: String, _ url: String, body: String? = nil, contentType: String? = nil) throws -> Int {
        var arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", "imagec:grr-secret", "-X", method, url]
        if let body {
            let file = folder.appendingPathComponent("body-\(UUID().uuidString)")
            try body.write(to: file, atomically: true, encoding: .utf8)
            arguments += ["--data-binary", "@\(file.path)", "-H", "Content-Type: \(contentType ?? "text/plain")"]
        }
        let status = Int(try PoolTests.output("/usr/bin/curl", arguments)) ?? 0
        guard status != 0 else { throw CancellationError() }
        return status
    }

    /// The mails received, oldest first: their headers and decoded bodies.
    func mails() -> [(headers: [String: String], body: String)] {
        let folder = maildir.appendingPathComponent("new")
        // Maildir names start with the delivery's time: `1796575247.M561061P31405Q1.host` (seconds, microseconds).
        func time(_ name: String) -> (Int, Int) {
            let parts = name.split(separator: ".")
            return (Int(parts.first ?? "") ?? 0, Int(parts.dropFirst().first?.dropFirst().prefix { $0.isNumber } ?? "") ?? 0)
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted { time($0) < time($1) }
        return names.compactMap { name in
            guard let text = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else { return nil }
            let parts = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n")
            var headers: [String: String] = [:]
            for line in parts[0].split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            return (headers, Self.decodeQuotedPrintable(parts.dropFirst().joined(separator: "\n\n")))
        }
    }

    static func decodeQuotedPrintable(_ text: String) -> String {
        var bytes: [UInt8] = []
        let source = Array(text.replacingOccurrences(of: "=\n", with: "").utf8)
        var index = 0
        while index < source.count {
            if source[index] == UInt8(ascii: "="), index + 2 < source.count, let byte = UInt8(String(decoding: source[index + 1...index + 2], as: UTF8.self), radix: 16) {
                bytes.append(byte)
                index += 3
            } else {
                bytes.append(source[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func stop() {
        stopCalendar()
        mailServer?.stop()
    }
}
