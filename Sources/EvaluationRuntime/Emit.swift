internal import Foundation
public import ImageDSL

/// Hands the systems a definition file declares back to imagec.
///
/// imagec compiles a definition with a few lines appended that call ``emit(_:_:)`` with the
/// file's `system` and `systems` values. Whichever of the two the file does not declare is
/// one of the placeholders below, so the call compiles either way. The result is written
/// to the file named by `IMAGEC_RESULT_PATH`, never to standard output, so what the
/// definition prints cannot corrupt it.
public func emit(_ system: some SystemDeclaration, _ systems: some SystemDeclaration, file: String) {
    let declared = (system.declaredSystems ?? []) + (systems.declaredSystems ?? [])
    var result = EvaluationResult(resolving: declared)
    if system.declaredSystems == nil && systems.declaredSystems == nil {
        result.diagnostics.append(Diagnostic(
            "the file declares no system: add `let system = OperatingSystem { … }` "
                + "(or `let systems = [ … ]` for several)",
            at: SourceLocation(file: file, line: 1)))
    } else if declared.isEmpty {
        result.diagnostics.append(Diagnostic("`systems` is empty", at: SourceLocation(file: file, line: 1)))
    }
    // imagec uses no system of a file with errors; one may hold what JSON cannot (a NaN
    // timeout, reported at its line).
    if result.hasErrors { result.systems = [] }
    guard let path = ProcessInfo.processInfo.environment["IMAGEC_RESULT_PATH"] else {
        FileHandle.standardError.write(Data("IMAGEC_RESULT_PATH is not set: run this through imagec\n".utf8))
        exit(70)
    }
    do {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(result).write(to: URL(fileURLWithPath: path))
    } catch {
        FileHandle.standardError.write(Data("cannot write the evaluation result: \(error)\n".utf8))
        exit(70)
    }
}

/// Makes standard output line-buffered, so what a definition prints before it crashes is kept.
public func prepareOutput() {
    setvbuf(stdout, nil, _IOLBF, 0)
}

/// A value that declares systems: an `OperatingSystem`, an array of them, or a placeholder.
public protocol SystemDeclaration {
    /// The systems declared, or `nil` for a placeholder.
    var declaredSystems: [OperatingSystem]? { get }
}

extension OperatingSystem: SystemDeclaration {
    public var declaredSystems: [OperatingSystem]? { [self] }
}

extension Array: SystemDeclaration where Element == OperatingSystem {
    public var declaredSystems: [OperatingSystem]? { self }
}

/// Stands for `system` when a definition file declares only `systems`.
public struct NoSystemDeclared: SystemDeclaration, Sendable {
    public var declaredSystems: [OperatingSystem]? { nil }
}

/// Placeholder shadowed by a definition's own `let system`.
public let system = NoSystemDeclared()
/// Placeholder shadowed by a definition's own `let systems`.
public let systems = NoSystemDeclared()
