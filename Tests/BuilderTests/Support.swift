import Builder
import Foundation
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
