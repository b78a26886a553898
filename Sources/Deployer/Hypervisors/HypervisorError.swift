import ImagecCore

/// A hypervisor that cannot do what was asked: unreachable, refused, or a machine it does not have.
public struct HypervisorError: CategorizedError, CustomStringConvertible {
    public var description: String
    public var failureKind: FailureKind

    public init(_ description: String, kind: FailureKind = .environment) {
        self.description = description
        failureKind = kind
    }
}
