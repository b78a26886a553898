import ImagecCore

/// The deployment ledger cannot be opened or written.
public struct LedgerError: CategorizedError, CustomStringConvertible {
    public var description: String
    public var failureKind: FailureKind

    public init(_ description: String, kind: FailureKind = .environment) {
        self.description = description
        failureKind = kind
    }
}
