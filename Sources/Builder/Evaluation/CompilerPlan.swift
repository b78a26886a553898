import Foundation
import ImagecCore

/// The commands `swiftc` runs to compile and link a definition (what `swiftc -###` prints:
/// the frontend, autolink-extract, the linker), kept per toolchain and compilation, so that
/// later evaluations run them directly. The driver's own start, about 0.3 s of a 0.6 s
/// compilation, is then paid once per toolchain instead of once per evaluation.
///
/// A plan only shortens a compilation that succeeds: when one of its commands fails (a
/// definition that does not compile, a toolchain changed under it), the caller compiles with
/// `swiftc` itself, whose diagnostics are the ones reported.
struct CompilerPlan: Codable, Equatable {
    /// Each command, the compilation's folder written as `@SCRATCH@`.
    var commands: [[String]]
    /// Files the driver wrote for its commands (its output file map), by path, the same way.
    var files: [String: String]

    static let placeholder = "@SCRATCH@"

    /// The plan of `swiftc arguments`, whose paths lie in `scratch`, and the file that keeps
    /// it: read from `folder`, else asked of the driver and kept there. Nil when the driver's
    /// plan cannot be read.
    static func load(compiler: URL, arguments: [String], scratch: URL, environment: [String: String], identity: String,
                     folder: URL) -> (plan: CompilerPlan, file: URL)? {
        let generic = arguments.map { $0.replacingOccurrences(of: scratch.path, with: placeholder) }
        let key = CanonicalJSON.sha256(Data((["imagec compiler plan 2", compiler.path, identity] + generic).joined(separator: "\n").utf8))
        let file = folder.appendingPathComponent("\(key).json")
        if let data = FileManager.default.contents(atPath: file.path), let plan = try? JSONDecoder().decode(CompilerPlan.self, from: data) {
            return (plan, file)
        }
        guard let result = try? Command(executable: compiler.path, arguments: ["-###"] + arguments, environment: environment)
            .run(timeout: 60, outputFile: scratch.appendingPathComponent("compiler-plan.txt")),
            result.status == 0, let plan = parse(result.output, scratch: scratch) else { return nil }
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(key).\(getpid())")
        if (try? JSONEncoder().encode(plan).write(to: temporary)) != nil { rename(temporary.path, file.path) }
        return (plan, file)
    }

    /// The plan in the driver's `-###` output: one command a line, its words quoted for the
    /// shell where needed. The driver's temporary folder (in `scratch`) becomes a fixed one.
    static func parse(_ output: String, scratch: URL) -> CompilerPlan? {
        var commands: [[String]] = []
        for line in output.split(separator: "\n") where !line.isEmpty {
            guard let words = shellWords(String(line)), let executable = words.first, executable.hasPrefix("/") else { return nil }
            commands.append(words)
        }
        guard !commands.isEmpty else { return nil }
        // The driver's temporary folder, `$TMPDIR/TemporaryDirectory.XXXXXX`, and what it wrote there.
        let temporaryPrefix = scratch.path + "/TemporaryDirectory."
        let temporary = commands.joined().lazy.compactMap { word -> String? in
            guard let range = word.range(of: temporaryPrefix) else { return nil }
            return temporaryPrefix + word[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        }.first
        func generic(_ text: String) -> String {
            var text = text
            // Paths as they are, and as the driver's JSON files write them (`\/tmp\/…`).
            for escape in [{ (path: String) in path }, { (path: String) in path.replacingOccurrences(of: "/", with: "\\/") }] {
                if let temporary { text = text.replacingOccurrences(of: escape(temporary), with: placeholder + "/driver") }
                text = text.replacingOccurrences(of: escape(scratch.path), with: placeholder)
            }
            return text
        }
        var files: [String: String] = [:]
        if let temporary {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] where !name.hasPrefix(".") {
                guard let text = try? String(contentsOfFile: temporary + "/" + name, encoding: .utf8) else { return nil }
                files[placeholder + "/driver/" + name] = generic(text)
            }
        }
        return CompilerPlan(commands: commands.map { $0.map(generic) }, files: files)
    }

    /// Runs the commands in `scratch`; the result of the first that fails, else of the last.
    func run(in scratch: URL, environment: [String: String], timeout: Double) throws -> Command.Result {
        func concrete(_ text: String) -> String { text.replacingOccurrences(of: Self.placeholder, with: scratch.path) }
        try FileManager.default.createDirectory(at: scratch.appendingPathComponent("driver"), withIntermediateDirectories: true)
        for (path, text) in files { try concrete(text).write(toFile: concrete(path), atomically: false, encoding: .utf8) }
        var last: Command.Result?
        for (index, command) in commands.enumerated() {
            let words = command.map(concrete)
            let result = try Command(executable: words[0], arguments: Array(words.dropFirst()), environment: environment)
                .run(timeout: timeout, outputFile: scratch.appendingPathComponent("compiler-\(index).txt"))
            guard result.status == 0, !result.timedOut else { return result }
            last = result
        }
        return last!
    }

    /// The words of a command line as the driver quotes them (`'…'`, with `'\''` for a quote);
    /// nil for anything else (double quotes, a quote left open).
    static func shellWords(_ line: String) -> [String]? {
        var words: [String] = [], word = "", inWord = false
        var characters = line.makeIterator()
        while let character = characters.next() {
            switch character {
            case " ":
                if inWord { words.append(word); word = ""; inWord = false }
            case "'":
                inWord = true
                var closed = false
                while let quoted = characters.next() {
                    if quoted == "'" { closed = true; break }
                    word.append(quoted)
                }
                guard closed else { return nil }
            case "\\":
                guard let escaped = characters.next() else { return nil }
                word.append(escaped)
                inWord = true
            case "\"", "$", "`":
                return nil
            default:
                word.append(character)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        return words
    }
}
