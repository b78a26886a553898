import ImagecCore

/// A host that cannot be deployed, resumed or rolled back as asked.
public struct DeployError: CategorizedError, CustomStringConvertible {
    public var description: String
    public var failureKind: FailureKind

    public init(_ description: String, kind: FailureKind = .environment) {
        self.description = description
        failureKind = kind
    }
}
