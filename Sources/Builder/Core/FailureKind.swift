/// What kind of failure ended a command, which decides imagec's exit status: the README's
/// table, mapped in one place (`imagec`'s `main`).
public enum FailureKind: Int32, Sendable, CaseIterable {
    /// 1: a definition is invalid (does not compile, crashes, declares an invalid system), or
    /// a side of `imagec diff` does not evaluate.
    case invalidDefinition = 1
    /// 2: the command line is wrong: an unknown option or value, a file that is not there, a
    /// system the file does not declare.
    case usage = 2
    /// 3: the build host, a pool, a cluster or a machine cannot do what is needed (a missing
    /// tool, an unreachable service, a package no source has).
    case environment = 3
    /// 4: a check imagec ran failed: `imagec test`'s checks, a host not healthy after
    /// `deploy` or `rollback`, a build that `build --check` found not reproducible.
    case checkFailed = 4
    /// 5: refused by a rule of the fleet: an image that has not passed `imagec test`, a host
    /// whose last swap never finished, a name taken by another host's image.
    case refused = 5
}

/// An error that says what kind of failure it is.
public protocol CategorizedError: Error {
    var failureKind: FailureKind { get }
}

extension DefinitionError: CategorizedError {
    public var failureKind: FailureKind { .invalidDefinition }
}

extension UsageError: CategorizedError {
    public var failureKind: FailureKind { .usage }
}

extension BuildEnvironmentError: CategorizedError {
    public var failureKind: FailureKind { .environment }
}

extension BuildFailure: CategorizedError {
    public var failureKind: FailureKind { .checkFailed }
}

/// Checks ran and some failed; what failed was printed already.
public struct ChecksFailed: CategorizedError {
    public init() {}
    public var failureKind: FailureKind { .checkFailed }
}

/// Definitions were found invalid (a side of `imagec diff`, a file of `imagec check`); what
/// was wrong was printed already.
public struct DefinitionsInvalid: CategorizedError {
    public init() {}
    public var failureKind: FailureKind { .invalidDefinition }
}
