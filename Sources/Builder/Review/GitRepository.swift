import Foundation
import ImagecCore

/// The git repository holding a definitions folder (the folder with `systems/` and
/// `templates/`), read with the `git` command: revisions, their files, what changed.
public struct GitRepository: Sendable {
    /// The repository's top folder.
    public let top: URL
    /// The definitions folder, relative to `top` (empty when it is the top).
    public let prefix: String

    /// The repository holding `definitions`.
    /// - Throws: ``UsageError`` when it is not in a git work tree.
    public init(holding definitions: URL) throws {
        let top = try Self.git(["rev-parse", "--show-toplevel"], in: definitions, failure: {
            UsageError("\(definitions.path) is not in a git repository: \($0)")
        }).trimmingCharacters(in: .whitespacesAndNewlines)
        self.top = URL(fileURLWithPath: top).resolvingSymlinksInPath()
        let folder = definitions.resolvingSymlinksInPath().path
        prefix = folder == self.top.path ? "" : String(folder.dropFirst(self.top.path.count + 1))
    }

    /// The commit a revision names (`HEAD~2`, a branch, a tag, a hash).
    /// - Throws: ``UsageError`` naming the revision when there is no such commit.
    public func commit(_ revision: String) throws -> String {
        guard !revision.hasPrefix("-") else { throw UsageError("'\(revision)' is not a git revision") }
        return try Self.git(["rev-parse", "--verify", "--quiet", "--end-of-options", "\(revision)^{commit}"], in: top, failure: { _ in
            UsageError("'\(revision)' is not a commit of the repository at \(top.path)")
        }).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The definitions folder as it is in `commit`, extracted once into `cache` (a commit never
    /// changes, so the same path serves every later review and its evaluations stay cached).
    public func definitions(at commit: String, cache: URL) throws -> URL {
        let folder = cache.appendingPathComponent("revisions/\(commit)")
        let definitions = prefix.isEmpty ? folder : folder.appendingPathComponent(prefix)
        if FileManager.default.fileExists(atPath: folder.path) { return definitions }
        let partial = cache.appendingPathComponent("revisions/.tmp-\(getpid())-\(commit)")
        try? FileManager.default.removeItem(at: partial)
        try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: partial) }
        let paths = ["systems", "templates"].map { prefix.isEmpty ? $0 : "\(prefix)/\($0)" }
        let present = try Self.git(["ls-tree", "--name-only", commit, "--"] + paths, in: top, failure: {
            BuildEnvironmentError("git ls-tree \(commit): \($0)")
        }).split(separator: "\n").map(String.init)
        if !present.isEmpty {
            let archive = partial.appendingPathComponent(".archive.tar")
            _ = try Self.git(["archive", "--format=tar", "--output=\(archive.path)", commit, "--"] + present, in: top, failure: {
                BuildEnvironmentError("git archive \(commit): \($0)")
            })
            _ = try Self.run("/bin/tar", ["-xf", archive.path, "-C", partial.path], in: partial, failure: {
                BuildEnvironmentError("cannot unpack the files of \(commit): \($0)")
            })
            try FileManager.default.removeItem(at: archive)
        }
        if rename(partial.path, folder.path) != 0, !FileManager.default.fileExists(atPath: folder.path) {
            throw BuildEnvironmentError("cannot keep the files of \(commit) in \(folder.path): \(String(cString: strerror(errno)))")
        }
        return definitions
    }

    /// Whether the definitions folder has changes not committed (untracked files included).
    public func isDirty() throws -> Bool {
        let output = try Self.git(["status", "--porcelain", "--untracked-files=normal", "--", "."],
                                  in: prefix.isEmpty ? top : top.appendingPathComponent(prefix), failure: {
            BuildEnvironmentError("git status: \($0)")
        })
        return !output.isEmpty
    }

    static func git(_ arguments: [String], in folder: URL, failure: (String) -> any Error) throws -> String {
        try run("/usr/bin/git", ["-c", "core.quotePath=false"] + arguments, in: folder, failure: failure)
    }

    /// Standard output of a program, or `failure(its standard error)` when it fails.
    static func run(_ executable: String, _ arguments: [String], in folder: URL, failure: (String) -> any Error) throws -> String {
        try Command(executable: executable, arguments: arguments, workingDirectory: folder).output { failure($0.output) }
    }
}
