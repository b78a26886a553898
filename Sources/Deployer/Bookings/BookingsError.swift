import ImagecCore

/// The nightly job cannot run: its record cannot be opened, another run holds the lock, a
/// definition of a bookable machine is at fault.
public struct BookingsError: CategorizedError, CustomStringConvertible, Sendable {
    public var description: String
    public var failureKind: FailureKind

    public init(_ description: String, kind: FailureKind = .environment) {
        self.description = description
        self.failureKind = kind
    }
}
