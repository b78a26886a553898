import ImageDSL

/// A definition that cannot be evaluated: it does not compile, crashes, runs too long,
/// or declares an invalid system. Carries every problem found, each with its location.
public struct DefinitionError: Error, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case compilation, crash, timeout, invalid
    }

    public var kind: Kind
    public var diagnostics: [Diagnostic]
    /// The compiler's output (for compilation errors) or what the definition printed.
    public var output: String

    public init(_ kind: Kind, _ diagnostics: [Diagnostic], output: String = "") {
        self.kind = kind
        self.diagnostics = diagnostics
        self.output = output
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// A build that a check of imagec's found wrong, neither the definition's fault nor the
/// host's: an image that is not reproducible.
public struct BuildFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
