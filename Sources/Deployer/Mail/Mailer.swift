/// Sends mail: ``SMTPMailer`` to the lab's mail server; tests may record instead.
public protocol Mailer: Sendable {
    /// Sends `message`, or throws ``MailError`` when the server does not take it.
    func send(_ message: MailMessage) throws
}
