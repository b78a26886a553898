import DefinitionEvaluation
import Foundation
import ImageBuild
import ImagecCore
import ImageDSL
import Packages

/// One side of a review: the systems some definition files declare (a git revision's, the
/// work tree's or a single file's), evaluated, each with its image digest and locked package
/// versions; and the files that did not evaluate, with their errors.
public struct DefinitionSnapshot: Sendable {
    public struct System: Sendable {
        public var hostName: String
        /// The definition file, relative to the definitions folder (`systems/workers.swift`).
        public var file: String
        public var model: SystemModel
        /// The image's digest when the lock is current (what `imagec build` names the entry),
        /// else the model's.
        public var digest: String
        /// Why `digest` is only the model's: `not locked`, `lock out of date`.
        public var lockNote: String?
        /// Every locked package and its version, by name.
        public var packages: [String: String]
    }

    /// A definition file that did not evaluate.
    public struct Failure: Sendable {
        public var file: String
        /// The errors, `file:line: error: …` with paths relative to the definitions folder.
        public var errors: [String]
    }

    /// What the side is called in reports: a revision, `work tree`, a file name.
    public var label: String
    /// The systems by host name.
    public var systems: [String: System] = [:]
    public var failures: [Failure] = []
    /// The definition files read, relative.
    public var files: [String] = []
    /// The definitions folder the files were read from.
    public var folder: URL

    /// Evaluates `files` (paths relative to `folder`; default every `systems/*.swift`).
    /// A file that does not exist on this side is skipped: its systems are absent.
    public static func load(label: String, folder: URL, files requested: [String]? = nil, evaluator: Evaluator) throws -> DefinitionSnapshot {
        var snapshot = DefinitionSnapshot(label: label, folder: folder)
        let folderPath = folder.standardizedFileURL.path
        let systems = folder.appendingPathComponent("systems")
        let all = ((try? FileManager.default.contentsOfDirectory(atPath: systems.path)) ?? [])
            .filter { $0.hasSuffix(".swift") }.map { "systems/\($0)" }
        let files = (requested ?? all).filter { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }.sorted()
        snapshot.files = files
        for file in files {
            let url = folder.appendingPathComponent(file)
            do {
                let evaluation = try evaluator.evaluate(url.path)
                let lockFile = PackageLock.url(for: evaluation.file)
                let lock = try? PackageLock.read(from: lockFile)
                for system in evaluation.systems {
                    var entry = System(hostName: system.model.hostName, file: file, model: system.model, digest: system.digest.description,
                                       lockNote: nil, packages: [:])
                    if let lock, let set = try? lock.set(for: system.model, lockFile: lockFile) {
                        entry.digest = (try ImageBuilder.digest(of: system, set: set)).description
                        entry.packages = Dictionary(set.packages.map { ($0.name, $0.version) }, uniquingKeysWith: { a, _ in a })
                    } else {
                        entry.lockNote = lock == nil ? "not locked" : "lock out of date"
                        // A stale lock still tells which versions the system had.
                        if let set = lock?.sets.first(where: { $0.systems.contains(system.model.hostName) }) {
                            entry.packages = Dictionary(set.packages.map { ($0.name, $0.version) }, uniquingKeysWith: { a, _ in a })
                        }
                    }
                    snapshot.systems[entry.hostName] = entry
                }
            } catch let error as DefinitionError {
                let errors = error.diagnostics.map { diagnostic in
                    var diagnostic = diagnostic
                    if let path = diagnostic.location?.file { diagnostic.location?.file = snapshot.relative(path) }
                    diagnostic.message = diagnostic.message.replacingOccurrences(of: folderPath + "/", with: "")
                    return diagnostic.description
                }
                snapshot.failures.append(Failure(file: file, errors: errors.isEmpty ? ["\(file): error: \(error.kind.rawValue)"] : errors))
            }
        }
        return snapshot
    }

    /// The folder-relative form of a path in this side's models (where things were declared).
    public func relative(_ path: String) -> String {
        let prefix = folder.standardizedFileURL.path + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}
