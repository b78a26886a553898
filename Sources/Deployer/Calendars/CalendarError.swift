import ImagecCore

/// A calendar that cannot be read: it does not answer, refuses the credentials, or is not a
/// calendar. Nothing is reinstalled on a night whose calendar could not be read.
public struct CalendarError: CategorizedError, CustomStringConvertible, Sendable {
    public var description: String
    public var failureKind: FailureKind { .environment }

    public init(_ description: String) { self.description = description }
}
