import ImagecCore

/// A mail the server did not take (it does not answer, refuses a recipient or the credentials).
public struct MailError: CategorizedError, CustomStringConvertible, Sendable {
    public var description: String
    public var failureKind: FailureKind { .environment }

    public init(_ description: String) { self.description = description }
}
