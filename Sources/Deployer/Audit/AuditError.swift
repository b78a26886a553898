import ImagecCore

/// Bad input to `imagec audit`: a tracker file that is empty or not the tracker's JSON, a
/// suppressions file with a bad line.
public struct AuditError: CategorizedError, CustomStringConvertible, Sendable {
    public var description: String
    public var failureKind: FailureKind

    public init(_ description: String, kind: FailureKind = .usage) {
        self.description = description
        failureKind = kind
    }
}
