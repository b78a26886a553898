import Foundation

/// A plain-text mail, as imagec sends them: to a booking's user, to the admins.
public struct MailMessage: Codable, Equatable, Sendable {
    public var from: String
    public var to: [String]
    public var subject: String
    public var body: String
    /// The same for a mail sent again after a crash, so mail readers show it once.
    public var messageID: String
    public var date: Date

    public init(from: String, to: [String], subject: String, body: String, messageID: String, date: Date) {
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.messageID = messageID
        self.date = date
    }

    /// The message as RFC 5322 text: CRLF line ends, the subject as a MIME encoded word when
    /// it is not ASCII, the body UTF-8 in quoted-printable (any server carries it).
    public var rfc5322: Data {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let headers = [
            "From: \(from)",
            "To: \(to.joined(separator: ", "))",
            "Subject: \(Self.encodedWord(subject))",
            "Date: \(formatter.string(from: date))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "Auto-Submitted: auto-generated",
        ]
        return Data((headers.joined(separator: "\r\n") + "\r\n\r\n" + Self.quotedPrintable(body)).utf8)
    }

    /// `text`, or its RFC 2047 base64 encoded word when it is not plain ASCII.
    static func encodedWord(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= 0x80 || $0 < 0x20 }) else { return text }
        return "=?UTF-8?B?\(Data(text.utf8).base64EncodedString())?="
    }

    /// RFC 2045 quoted-printable: lines of at most 76 characters, CRLF line ends.
    static func quotedPrintable(_ text: String) -> String {
        var lines: [String] = []
        for line in text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false) {
            var encoded = "", length = 0
            let bytes = Array(line.utf8)
            for (index, byte) in bytes.enumerated() {
                let last = index == bytes.count - 1
                let plain = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !last)
                let piece = plain ? String(UnicodeScalar(byte)) : "=" + String(format: "%02X", byte)
                if length + piece.count > 75 {
                    encoded += "=\r\n"
                    length = 0
                }
                encoded += piece
                length += piece.count
            }
            lines.append(encoded)
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
