import DefinitionEvaluation
import Foundation
import ImagecCore
import ImageDSL
import Testing

/// Shared set-up: an evaluator with a private cache, and paths into the repository.
enum Support {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let resources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    /// A new, empty temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A new store whose .deb cache is shared by every test run on this machine
    /// (`$IMAGEC_TEST_DEBS`, default /var/tmp/imagec-test-debs): files named by their SHA-256
    /// can be shared safely, and tests then download each package once.
    static func store(_ root: URL) throws -> Store {
        let debs = URL(fileURLWithPath: ProcessInfo.processInfo.environment["IMAGEC_TEST_DEBS"] ?? "/var/tmp/imagec-test-debs")
        try FileManager.default.createDirectory(at: debs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("debs"), withDestinationURL: debs)
        return Store(root: root)
    }

    /// An evaluator whose cache lives in a fresh directory (or none).
    static func evaluator(cache: URL? = nil, timeout: Double = 60) throws -> Evaluator {
        try Evaluator(
            toolchain: DSLToolchain.locate(), sandbox: Sandbox.detect(),
            cache: cache.map(EvaluationCache.init(directory:)), timeout: timeout)
    }

    /// Evaluates and returns the definition error it must raise.
    static func definitionError(_ path: String, evaluator: Evaluator? = nil) throws -> DefinitionError {
        do {
            _ = try (evaluator ?? Self.evaluator()).evaluate(path)
        } catch let error as DefinitionError {
            return error
        }
        Issue.record("\(path) evaluated without error")
        throw CancellationError()
    }
}
