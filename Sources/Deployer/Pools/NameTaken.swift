import ImagecCore

/// The name a host's incoming image needs is held by an image that is not the host's
/// (exit status 5: imagec never removes what it did not make).
public struct NameTaken: CategorizedError, CustomStringConvertible {
    public var name: String
    public var store: String
    public var host: String

    public var failureKind: FailureKind { .refused }

    public var description: String {
        "\(store) has an image named '\(name)' that is not \(host)'s candidate: rename or remove it"
    }
}
