import Foundation
import ImagecCore

/// Sends mail to an SMTP server through curl: `smtp://host:port` (with STARTTLS when
/// `requireTLS`), or `smtps://host:port`; the password, if any, from a 0600 file.
public struct SMTPMailer: Mailer {
    public var server: String
    public var credentials: Credentials?
    public var caFile: String?
    /// Refuse to send unless the server offers STARTTLS (for `smtp://`).
    public var requireTLS: Bool
    public var timeout: Double = 60

    public init(server: String, credentials: Credentials? = nil, caFile: String? = nil, requireTLS: Bool = false) {
        self.server = server
        self.credentials = credentials
        self.caFile = caFile
        self.requireTLS = requireTLS
    }

    public func send(_ message: MailMessage) throws {
        var arguments = ["--mail-from", Self.address(message.from)]
        for recipient in message.to { arguments += ["--mail-rcpt", Self.address(recipient)] }
        if requireTLS { arguments.append("--ssl-reqd") }
        do {
            _ = try Curl(url: server, body: message.rfc5322, credentials: credentials, caFile: caFile, timeout: timeout, arguments: arguments).perform()
        } catch let error as CurlError {
            throw MailError("the mail server \(server) did not take the mail '\(message.subject)' to \(message.to.joined(separator: ", ")): \(error.reason)")
        }
    }

    /// The address of `Name <address>`, or the text itself.
    public static func address(_ text: String) -> String {
        guard let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close else { return text }
        return String(text[text.index(after: open)..<close])
    }
}
