import Foundation
import ImagecCore
import ImageDSL

/// `imagec check`: every definition under some paths evaluated, each file's problems, and
/// what must hold across all of their systems (``FleetConsistency``: host names, static
/// addresses, deployment targets), for CI and review jobs.
public struct FleetCheck: Sendable {
    public var evaluator: Evaluator

    public init(evaluator: Evaluator) { self.evaluator = evaluator }

    /// What a check found.
    public struct Result: Sendable {
        /// The definition files evaluated, in order.
        public var files: [String]
        /// The systems of the files that evaluated.
        public var systems: [Evaluation.System]
        /// Errors and warnings, file by file, then those across files.
        public var diagnostics: [Diagnostic]
        /// How the files that did not compile or crashed failed, with what they printed.
        public var failures: [DefinitionError]

        public var hasErrors: Bool { !failures.isEmpty || diagnostics.contains { $0.severity == .error } }
    }

    /// Checks the definitions in `paths`: files, and folders searched for `.swift` files
    /// (their `templates` folders excepted: templates are checked through the systems that use them).
    public func run(_ paths: [String], progress: ProgressReporter = .silent) throws -> Result {
        let files = try paths.flatMap(Self.definitions(in:))
        var result = Result(files: files, systems: [], diagnostics: [], failures: [])
        for file in files {
            progress("evaluating \(file)")
            do {
                let evaluation = try evaluator.evaluate(file)
                result.systems += evaluation.systems
                result.diagnostics += evaluation.diagnostics
            } catch let error as DefinitionError where error.kind == .invalid {
                result.diagnostics += error.diagnostics
            } catch let error as DefinitionError {
                result.failures.append(error)
            }
        }
        // A clash within one file was reported with that file.
        for problem in FleetConsistency.problems(result.systems.map(\.model)) where !result.diagnostics.contains(problem) {
            result.diagnostics.append(problem)
        }
        return result
    }

    /// The definition files `path` names: itself, or the `.swift` files below it, sorted.
    static func definitions(in path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw UsageError("\(path): no such file or folder")
        }
        guard isDirectory.boolValue else { return [path] }
        let root = URL(fileURLWithPath: path)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isDirectoryKey]) else { return [] }
        var files: [String] = []
        for case let url as URL in walker {
            if url.lastPathComponent == "templates" || url.lastPathComponent.hasPrefix(".") {
                walker.skipDescendants()
                continue
            }
            if url.pathExtension == "swift" { files.append(path.hasSuffix("/") ? path + url.relativePath(from: root) : path + "/" + url.relativePath(from: root)) }
        }
        guard !files.isEmpty else { throw UsageError("\(path) holds no definition (.swift file)") }
        return files.sorted()
    }
}

private extension URL {
    /// This file's path below `root`.
    func relativePath(from root: URL) -> String {
        String(standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count).drop { $0 == "/" })
    }
}
