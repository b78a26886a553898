import ImagecCore

/// A host's identity that cannot be made or written: keys, the deploy key, libguestfs.
public struct IdentityError: CategorizedError, CustomStringConvertible {
    public var description: String
    public var failureKind: FailureKind

    public init(_ description: String, kind: FailureKind = .environment) {
        self.description = description
        failureKind = kind
    }
}
