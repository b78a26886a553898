import DefinitionEvaluation
import Foundation
import ImagecCore

/// The two sides a review compares, from what an admin types: two definition files, or one
/// or two git revisions of the repository holding `systems/` and `templates/` (the work tree
/// stands for a missing second revision).
public struct ReviewSides {
    public var old: DefinitionSnapshot
    public var new: DefinitionSnapshot
    /// The new side is the work tree and it has uncommitted changes.
    public var newIsDirty: Bool

    /// - Parameters:
    ///   - arguments: `A.swift B.swift`, or `REV1 [REV2]`.
    ///   - paths: system files (or folders of them) to limit a revision review to, relative to `directory`.
    ///   - directory: where the command runs; the definitions folder is it or the nearest folder above with `systems/`.
    public init(_ arguments: [String], paths: [String] = [], directory: URL, evaluator: Evaluator,
                cache: URL = EvaluationCache.defaultDirectory) throws {
        let manager = FileManager.default
        func isFile(_ path: String) -> Bool {
            var folder: ObjCBool = false
            return manager.fileExists(atPath: URL(fileURLWithPath: path, relativeTo: directory).path, isDirectory: &folder) && !folder.boolValue
        }
        if arguments.count == 2, arguments.allSatisfy(isFile) {
            guard paths.isEmpty else { throw UsageError("paths after -- limit a review of revisions, not of two files") }
            let sides = try arguments.map { argument in
                let file = URL(fileURLWithPath: argument, relativeTo: directory).standardizedFileURL
                // A file in a systems/ folder sees the templates beside that folder.
                let parent = file.deletingLastPathComponent()
                let folder = parent.lastPathComponent == "systems" ? parent.deletingLastPathComponent() : parent
                let relative = parent.lastPathComponent == "systems" ? "systems/\(file.lastPathComponent)" : file.lastPathComponent
                return try DefinitionSnapshot.load(label: argument, folder: folder, files: [relative], evaluator: evaluator)
            }
            (old, new, newIsDirty) = (sides[0], sides[1], false)
            return
        }
        guard (1...2).contains(arguments.count) else {
            throw UsageError("give two system files, or one or two git revisions (the second defaults to the work tree)")
        }
        for argument in arguments where argument.hasSuffix(".swift") && !isFile(argument) {
            throw UsageError("\(argument): no such file")
        }
        let definitions = try Self.definitionsFolder(from: directory)
        let repository = try GitRepository(holding: definitions)
        let files = try paths.isEmpty ? nil : Self.systemFiles(paths, directory: directory, definitions: definitions)
        let first = try repository.commit(arguments[0])
        old = try DefinitionSnapshot.load(
            label: arguments[0], folder: try repository.definitions(at: first, cache: cache), files: files, evaluator: evaluator)
        if arguments.count == 2 {
            let second = try repository.commit(arguments[1])
            new = try DefinitionSnapshot.load(
                label: arguments[1], folder: try repository.definitions(at: second, cache: cache), files: files, evaluator: evaluator)
            newIsDirty = false
        } else {
            new = try DefinitionSnapshot.load(label: "work tree", folder: definitions, files: files, evaluator: evaluator)
            newIsDirty = try repository.isDirty()
        }
        for file in files ?? [] where !old.files.contains(file) && !new.files.contains(file) {
            throw UsageError("\(file) exists in neither \(old.label) nor \(new.label)")
        }
    }

    /// One side: the systems of a revision, or of the work tree when `revision` is `nil`.
    public static func snapshot(at revision: String?, directory: URL, evaluator: Evaluator,
                                cache: URL = EvaluationCache.defaultDirectory) throws -> DefinitionSnapshot {
        let definitions = try definitionsFolder(from: directory)
        guard let revision else { return try DefinitionSnapshot.load(label: "work tree", folder: definitions, evaluator: evaluator) }
        let repository = try GitRepository(holding: definitions)
        let folder = try repository.definitions(at: try repository.commit(revision), cache: cache)
        return try DefinitionSnapshot.load(label: revision, folder: folder, evaluator: evaluator)
    }

    /// `directory` or the nearest folder above it with a `systems` folder.
    public static func definitionsFolder(from directory: URL) throws -> URL {
        var folder = directory.standardizedFileURL
        while true {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("systems").path, isDirectory: &isFolder), isFolder.boolValue {
                return folder
            }
            if folder.path == "/" { break }
            folder = folder.deletingLastPathComponent()
        }
        throw UsageError("no systems/ folder in \(directory.path) or above it: run imagec in the repository of your definitions")
    }

    /// The system files `paths` name, relative to the definitions folder; `nil` for all of them.
    static func systemFiles(_ paths: [String], directory: URL, definitions: URL) throws -> [String]? {
        let root = definitions.standardizedFileURL.path
        var all = false
        let files = try paths.flatMap { path -> [String] in
            let absolute = URL(fileURLWithPath: path, relativeTo: directory).standardizedFileURL.path
            guard absolute == root || absolute.hasPrefix(root + "/") else {
                throw UsageError("\(path) is outside the definitions folder \(root)")
            }
            let relative = absolute == root ? "" : String(absolute.dropFirst(root.count + 1))
            if relative.hasSuffix(".swift") {
                guard relative.hasPrefix("systems/") else { throw UsageError("\(path) is not a system file (under systems/)") }
                return [relative]
            }
            guard relative == "" || relative == "systems" else { throw UsageError("\(path) is not a system file or the systems/ folder") }
            all = true
            return []
        }
        return all ? nil : files
    }
}
