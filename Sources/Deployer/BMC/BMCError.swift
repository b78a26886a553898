import ImagecCore

/// A BMC that cannot do what was asked: unreachable, credentials refused or unreadable, an
/// unknown machine, or an answer imagec does not understand.
public struct BMCError: CategorizedError, CustomStringConvertible {
    public var description: String
    public var failureKind: FailureKind

    public init(_ description: String, kind: FailureKind = .environment) {
        self.description = description
        failureKind = kind
    }
}
