import Foundation
import ImagecCore
import ImageDSL

/// Evaluation results kept on disk, keyed by a hash of everything an evaluation reads: the
/// system file, every template it can see, imagec's version, the compiler and the ImageDSL
/// library. Editing any of them changes the key.
public struct EvaluationCache: Sendable {
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    /// `$IMAGEC_CACHE_DIR`, else `$XDG_CACHE_HOME/imagec`, else `~/.cache/imagec`.
    public static var defaultDirectory: URL {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["IMAGEC_CACHE_DIR"] { return URL(fileURLWithPath: path) }
        if let path = environment["XDG_CACHE_HOME"] { return URL(fileURLWithPath: path).appendingPathComponent("imagec") }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/imagec")
    }

    /// What is stored for one evaluation: the result and what the definition printed.
    struct Entry: Codable {
        var result: EvaluationResult
        var output: String
        /// The canonical JSON of each system, so a hit need not encode them again.
        var canonical: [String]?
    }

    func load(key: String) -> Entry? {
        guard let data = try? Data(contentsOf: entryURL(key)) else { return nil }
        return try? JSONDecoder().decode(Entry.self, from: data)
    }

    /// Stores an entry atomically: a reader sees the whole entry or none.
    func store(_ entry: Entry, key: String) throws {
        let url = entryURL(key)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONEncoder().encode(entry).write(to: url, options: .atomic)
    }

    private func entryURL(_ key: String) -> URL {
        directory.appendingPathComponent("evaluations").appendingPathComponent("\(key).json")
    }

    /// The compiler's version, remembered per compiler binary so a cache hit never runs it.
    func compilerVersion(of compiler: URL) throws -> String {
        var info = stat()
        guard stat(compiler.path, &info) == 0 else { throw BuildEnvironmentError("cannot find the compiler \(compiler.path)") }
        let stamp = "\(compiler.resolvingSymlinksInPath().path) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        let url = directory.appendingPathComponent("compilers").appendingPathComponent(CanonicalJSON.sha256(Data(stamp.utf8)))
        if let version = try? String(contentsOf: url, encoding: .utf8) { return version }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-swiftc-\(getpid()).txt")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let result = try Command(executable: compiler.path, arguments: ["--version"]).run(timeout: 60, outputFile: scratch)
        guard result.status == 0 else { throw BuildEnvironmentError("\(compiler.path) --version failed: \(result.output)") }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try result.output.write(to: url, atomically: true, encoding: .utf8)
        return result.output
    }
}
