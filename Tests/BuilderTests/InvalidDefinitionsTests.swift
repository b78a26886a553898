import Foundation
import ImageDSL
import Testing

/// A corpus of invalid definitions. Each line that must be reported carries a comment
/// `// error: <part of the message>`; evaluation must report exactly those errors, at those lines.
struct InvalidDefinitionsTests {
    static let corpus: [String] = {
        let folder = Support.resources.appendingPathComponent("Invalid")
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".swift") }.sorted()
    }()

    @Test func corpusIsLargeEnough() {
        #expect(Self.corpus.count >= 112)
    }

    @Test(arguments: corpus)
    func reportsEachErrorAtItsLine(name: String) throws {
        let path = Support.resources.appendingPathComponent("Invalid/\(name)").path
        let source = try String(contentsOfFile: path, encoding: .utf8)
        let expected = source.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { index, line in
            line.firstMatch(of: /\/\/ error: (.*)$/).map { (line: index + 1, message: String($0.1)) }
        }
        #expect(!expected.isEmpty, "\(name) has no `// error:` comment")

        let error = try Support.definitionError(path)
        let errors = error.diagnostics.filter { $0.severity == .error }
        for expectation in expected {
            #expect(
                errors.contains { $0.location?.file == path && $0.location?.line == expectation.line && $0.message.contains(expectation.message) },
                "\(name):\(expectation.line): expected an error containing “\(expectation.message)”; got:\n\(error.description)")
        }
        #expect(errors.count == expected.count, "\(name): expected \(expected.count) errors; got:\n\(error.description)")
        // Nothing names the program imagec wraps a definition in.
        #expect(!(error.description + error.output).contains("imagec-eval-"), "\(name): a temporary path is shown:\n\(error.output)")
    }
}
