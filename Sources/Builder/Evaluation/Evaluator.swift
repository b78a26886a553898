import Foundation
import ImagecCore
import ImageDSL

/// Evaluates definition files the way SwiftPM loads manifests: the file is compiled together
/// with the templates against the ImageDSL library, run in a sandbox, and the systems it
/// declares are read back from a result file. Results are cached.
public struct Evaluator: Sendable {
    public var toolchain: DSLToolchain
    public var sandbox: Sandbox
    /// `nil` turns caching off.
    public var cache: EvaluationCache?
    /// How long a compiled definition may run, in seconds.
    public var timeout: Double
    /// How long compiling a definition may take, in seconds.
    public var compileTimeout: Double = 300
    /// Where each evaluation gets its scratch folder (removed afterwards).
    public var scratchRoot = FileManager.default.temporaryDirectory
    /// The templates folder for files with none above them (a file git hands a textconv
    /// driver lives in a temporary folder).
    public var fallbackTemplates: URL?

    public init(toolchain: DSLToolchain, sandbox: Sandbox, cache: EvaluationCache?, timeout: Double = 60) {
        self.toolchain = toolchain
        self.sandbox = sandbox
        self.cache = cache
        self.timeout = timeout
    }

    /// An evaluator for this machine: the toolchain beside imagec, bubblewrap, the default
    /// cache, and `$IMAGEC_EVALUATION_TIMEOUT` (default 60 s).
    public static func standard(useCache: Bool = true) throws -> Evaluator {
        var timeout = 60.0
        if let value = ProcessInfo.processInfo.environment["IMAGEC_EVALUATION_TIMEOUT"] {
            guard let seconds = Double(value), seconds > 0, seconds.isFinite else {
                throw UsageError("IMAGEC_EVALUATION_TIMEOUT is '\(value)': set it to a number of seconds such as 120, or unset it (60 s)")
            }
            timeout = seconds
        }
        return Evaluator(
            toolchain: try DSLToolchain.locate(), sandbox: try Sandbox.detect(),
            cache: useCache ? EvaluationCache(directory: EvaluationCache.defaultDirectory) : nil, timeout: timeout)
    }

    /// Evaluates one system file; with `bookings`, its bookable machine (if it declares one)
    /// also says what it makes of the events (``Evaluation/bookings``).
    ///
    /// - Throws: ``DefinitionError`` for a definition at fault (with every problem and its
    ///   location), ``UsageError`` for a file that cannot be read, ``BuildEnvironmentError``
    ///   for a problem of the host.
    public func evaluate(_ path: String, bookings: BookingInput? = nil) throws -> Evaluation {
        let file = URL(fileURLWithPath: path).standardizedFileURL
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: file.path, isDirectory: &isFolder), isFolder.boolValue {
            throw UsageError("\(path) is a folder: give a definition file, such as systems/bigmem2.swift (`imagec check` takes folders)")
        }
        if file.pathExtension == "lock" {
            throw UsageError("\(path) is a package lock: give the definition it locks, \(file.deletingPathExtension().lastPathComponent).swift")
        }
        guard let source = FileManager.default.contents(atPath: file.path) else {
            throw UsageError("\(path): no such file")
        }
        // Read every input once: what is hashed is exactly what is compiled.
        var templates: [SourceFile] = []
        var found = Self.templates(for: file)
        if found.isEmpty, let fallbackTemplates {
            found = ((try? FileManager.default.contentsOfDirectory(atPath: fallbackTemplates.path)) ?? [])
                .filter { $0.hasSuffix(".swift") }.sorted().map { fallbackTemplates.appendingPathComponent($0) }
        }
        for template in found {
            guard let data = FileManager.default.contents(atPath: template.path) else {
                throw UsageError("\(template.path): cannot read template")
            }
            templates.append(SourceFile(url: template, contents: data))
        }
        let system = SourceFile(url: file, contents: source)
        for input in [system] + templates {
            try input.checkEncoding()
            try input.checkComments()
        }
        let lint = ([system] + templates).flatMap { SourceLint.problems(in: String(decoding: $0.contents, as: UTF8.self), file: $0.url.path) }

        var key: String?
        if let cache {
            var identity = "imagec-evaluation 2\nimagec \(Imagec.version)\n"
            identity += "compiler \(try cache.compilerVersion(of: toolchain.compiler))\n"
            identity += "tools \(toolchain.fingerprint())\n"
            for input in [system] + templates { identity += "source \(input.url.path) \(CanonicalJSON.sha256(input.contents))\n" }
            if let bookings { identity += "bookings \(CanonicalJSON.sha256(try CanonicalJSON.encode(value: bookings)))\n" }
            key = CanonicalJSON.sha256(Data(identity.utf8))
            if var entry = cache.load(key: key!) {
                entry.result.diagnostics = lint + entry.result.diagnostics
                return try Evaluation(
                    file: file, result: entry.result, output: entry.output, canonical: entry.canonical, cacheHit: true)
            }
        }

        let (result, output) = try compileAndRun(system, templates: templates, bookings: bookings)
        let evaluation = Result {
            var linted = result
            linted.diagnostics = lint + result.diagnostics
            return try Evaluation(file: file, result: linted, output: output, cacheHit: false)
        }
        if let cache, let key {
            let canonical = try? evaluation.get().systems.map { String(decoding: $0.canonicalJSON, as: UTF8.self) }
            try cache.store(EvaluationCache.Entry(result: result, output: output, canonical: canonical), key: key)
        }
        return try evaluation.get()
    }

    /// A definition or template file, as read.
    struct SourceFile {
        var url: URL
        var contents: Data

        /// The text, ending with a newline, preceded by a directive that keeps diagnostics,
        /// `#filePath` and crash reports pointing at the original file.
        var locatedText: String {
            var text = String(decoding: contents, as: UTF8.self)
            // A byte-order mark starts the file, not its first line (after the directive the
            // compiler would read it as a character).
            if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
            if !text.hasSuffix("\n") { text += "\n" }
            return "#sourceLocation(file: \"\(url.path)\", line: 1)\n" + text
        }

        /// Refuses a file that is not text: bytes that are not UTF-8, or a NUL byte (binary
        /// data), at its line and byte offset, in one line rather than the compiler's quote of it.
        func checkEncoding() throws {
            // The common case, at once: valid UTF-8 without NUL.
            if !contents.contains(0), String(validating: contents, as: UTF8.self) != nil { return }
            var line = 1, offset = 0
            var decoder = UTF8()
            var bytes = contents.makeIterator()
            while true {
                switch decoder.decode(&bytes) {
                case .emptyInput:
                    return
                case .scalarValue(let scalar):
                    if scalar == "\0" { throw problem("is not a text file: byte \(offset) is NUL", line: line) }
                    if scalar == "\n" { line += 1 }
                    offset += UTF8.width(scalar)
                case .error:
                    let byte = contents[contents.startIndex + offset]
                    throw problem("is not valid UTF-8: byte \(offset) (0x\(String(byte, radix: 16, uppercase: true))) does not decode; "
                        + "save it as UTF-8", line: line)
                }
            }
        }

        /// Refuses a block comment that is never closed, at the line it opens: the compiler
        /// would report it at the end of the program imagec wraps the file in.
        func checkComments() throws {
            // Bytes: every delimiter is ASCII, and UTF-8 never uses ASCII bytes inside a character.
            let text = [UInt8](contents)
            guard text.firstIndex(of: UInt8(ascii: "*")) != nil else { return }
            var index = 0, line = 1
            var open: [Int] = []  // lines of the open comments (they nest)
            var inString = false, multiline = false
            let slash = UInt8(ascii: "/"), star = UInt8(ascii: "*"), quote = UInt8(ascii: "\""), newline = UInt8(ascii: "\n")
            func at(_ first: UInt8, _ second: UInt8) -> Bool { index + 1 < text.count && text[index] == first && text[index + 1] == second }
            var atTripleQuote: Bool { index + 2 < text.count && text[index] == quote && text[index + 1] == quote && text[index + 2] == quote }
            while index < text.count {
                let byte = text[index]
                if byte == newline { line += 1; if inString && !multiline { inString = false } }
                if !open.isEmpty {
                    if at(slash, star) { open.append(line); index += 2; continue }
                    if at(star, slash) { open.removeLast(); index += 2; continue }
                } else if inString {
                    if byte == UInt8(ascii: "\\") { index += 2; continue }
                    if multiline ? atTripleQuote : byte == quote { inString = false; index += multiline ? 3 : 1; continue }
                } else if at(slash, slash) {
                    while index < text.count, text[index] != newline { index += 1 }
                    continue
                } else if at(slash, star) {
                    open.append(line); index += 2; continue
                } else if byte == quote {
                    multiline = atTripleQuote
                    inString = true
                    index += multiline ? 3 : 1
                    continue
                }
                index += 1
            }
            if let first = open.first { throw problem("has a comment opened here with /* and never closed with */", line: first) }
        }

        private func problem(_ message: String, line: Int) -> DefinitionError {
            DefinitionError(.invalid, [Diagnostic("\(url.lastPathComponent) \(message)", at: SourceLocation(file: url.path, line: line))])
        }

        var lineCount: Int { String(decoding: contents, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).count }
    }

    /// The templates a system file sees: every `*.swift` in the `templates` folder of the
    /// nearest folder above it that has one.
    public static func templates(for file: URL) -> [URL] {
        var directory = file.deletingLastPathComponent()
        while directory.path != "/" {
            let folder = directory.appendingPathComponent("templates")
            if let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) {
                return names.filter { $0.hasSuffix(".swift") }.sorted()
                    .map { folder.appendingPathComponent($0) }
                    .filter { $0.path != file.path }
            }
            directory = directory.deletingLastPathComponent()
        }
        return []
    }

    private func compileAndRun(_ system: SourceFile, templates: [SourceFile], bookings: BookingInput?) throws -> (EvaluationResult, String) {
        let file = system.url
        let cacheDirectory = cache?.directory ?? EvaluationCache.defaultDirectory
        let scratch = scratchRoot.appendingPathComponent("imagec-eval-\(UUID().uuidString)")
        Interruption.removeOnInterrupt(scratch)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(at: scratch)
            Interruption.forget(scratch)
        }

        // The definition becomes the program's main file, followed by the line that hands its
        // systems back; the templates are compiled from the copies that were hashed.
        let emitLine = system.lineCount + 1
        let main = """
            import EvaluationRuntime
            EvaluationRuntime.prepareOutput()
            \(system.locatedText)#sourceLocation(file: "\(file.path)", line: \(emitLine))
            EvaluationRuntime.emit(system, systems, bookable, file: #filePath)

            """
        let mainFile = scratch.appendingPathComponent("main.swift")
        try main.write(to: mainFile, atomically: true, encoding: .utf8)
        var inputs = [mainFile]
        for (index, template) in templates.enumerated() {
            let copy = scratch.appendingPathComponent("template\(index)-\(template.url.lastPathComponent)")
            try template.locatedText.write(to: copy, atomically: true, encoding: .utf8)
            inputs.append(copy)
        }

        let program = scratch.appendingPathComponent("definition")
        let arguments = [
            "-swift-version", "5", "-diagnostic-style", "llvm", "-module-name", "Definitions", "-gline-tables-only", "-wmo",
            "-I", toolchain.moduleDirectory.path, "-L", toolchain.libraryDirectory.path, "-lImageDSL",
            "-Xlinker", "-rpath", "-Xlinker", toolchain.libraryDirectory.path,
            "-module-cache-path", cacheDirectory.appendingPathComponent("module-cache").path,
        ] + inputs.map(\.path) + ["-o", program.path]
        // The compiler's own temporary files go in the scratch folder too.
        var environment = ProcessInfo.processInfo.environment
        environment["TMPDIR"] = scratch.path
        // The driver's commands, run directly when their plan is known; swiftc itself when
        // there is none or one of them fails (its diagnostics are the ones reported), and the
        // plan is made again next time.
        let kept = CompilerPlan.load(compiler: toolchain.compiler, arguments: arguments, scratch: scratch, environment: environment,
                                     identity: toolchain.fingerprint(), folder: cacheDirectory.appendingPathComponent("compiler-plans"))
        let planned = kept.flatMap { try? $0.plan.run(in: scratch, environment: environment, timeout: compileTimeout) }
        let compilation: Command.Result
        if let planned, planned.status == 0 || planned.timedOut {  // a timeout is not tried twice
            compilation = planned
        } else {
            if let kept { try? FileManager.default.removeItem(at: kept.file) }
            compilation = try Command(executable: toolchain.compiler.path, arguments: arguments, environment: environment)
                .run(timeout: compileTimeout, outputFile: scratch.appendingPathComponent("compiler.txt"))
        }
        if compilation.timedOut {
            throw DefinitionError(.timeout, [Diagnostic(
                "compiling the definition took longer than \(Int(compileTimeout)) s", at: SourceLocation(file: file.path, line: 1))])
        }
        if compilation.status != 0 {
            throw CompilerOutput(compilation.output, file: file, source: String(decoding: system.contents, as: UTF8.self), emitLine: emitLine,
                                 scratch: scratch.path).error
        }

        // The events a bookable machine reads, where both runs can read them.
        var input: URL?
        if let bookings {
            input = scratch.appendingPathComponent("bookings.json")
            try CanonicalJSON.encode(value: bookings).write(to: input!)
        }

        // Run twice at once, the second time with another clock, home and scratch folder: a
        // value that still differs depends on the clock, the environment or chance, and would
        // give another digest on every evaluation.
        let again = scratch.appendingPathComponent("again")
        try FileManager.default.createDirectory(at: again, withIntermediateDirectories: false)
        let second = BackgroundWork { try self.run(program, in: again, clock: Self.otherClock, bookings: input, file: file, templates: templates) }
        defer { _ = try? second.wait() }  // the scratch folder is removed after
        let first = Result { try run(program, in: scratch, clock: nil, bookings: input, file: file, templates: templates) }
        let (result, output) = try first.get()
        let difference: String?
        do {
            difference = Self.difference(result, try second.wait().0)
        } catch let error as DefinitionError {
            difference = "a second run failed: \(error.diagnostics.first?.message ?? "\(error)")"
        }
        if let difference {
            let sources = [system] + templates
            let suspects = sources.flatMap { source in
                String(decoding: source.contents, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                    .filter { $0.element.contains(Self.unsteadyValue) }
                    .map { SourceLocation(file: source.url.path, line: $0.offset + 1) }
            }
            let location = suspects.first ?? SourceLocation(file: file.path, line: 1)
            throw DefinitionError(.invalid, [Diagnostic(
                "the definition gives another value on every run (\(difference)): it depends on the clock, the environment "
                    + "or chance (Date(), random numbers, UUID(), ProcessInfo); compute it from fixed values", at: location)]
                + suspects.dropFirst().map { Diagnostic("this line may also depend on the clock or chance", at: $0, severity: .note) },
                output: output)
        }
        return (result, output)
    }

    /// What a definition's text uses to read the clock, the environment or chance.
    nonisolated(unsafe) static let unsteadyValue = /\bDate\(\)|\bDate\.now\b|\.random\b|\.random\(|\bUUID\(\)|\bProcessInfo\b|\bgetenv\(|\barc4random|\btime\(nil\)|\bgettimeofday\(|\bclock_gettime\(/.wordBoundaryKind(.simple)

    /// The second run's clock, for libfaketime (when installed): far from any real date.
    static let otherClock = "@2041-07-09 13:14:15"
    static let faketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

    /// Runs the compiled definition once, in the sandbox, with `folder` as its home and scratch.
    private func run(_ program: URL, in folder: URL, clock: String?, bookings: URL?, file: URL, templates: [SourceFile]) throws -> (EvaluationResult, String) {
        let resultFile = folder.appendingPathComponent("result.json")
        var environment: [String: String] = [
            "IMAGEC_RESULT_PATH": resultFile.path,
            "SWIFT_BACKTRACE": "enable=yes,interactive=no,color=no,threads=crashed,registers=none,images=none,sanitize=no",
            "PATH": "/usr/bin:/bin", "HOME": folder.path, "LANG": "C.UTF-8",
        ]
        if let bookings { environment["IMAGEC_BOOKINGS_PATH"] = bookings.path }
        if let clock, FileManager.default.fileExists(atPath: Self.faketime) {
            environment["LD_PRELOAD"] = Self.faketime
            environment["FAKETIME"] = clock
            environment["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
        }
        let run = try sandbox.command(
            running: program, scratch: folder,
            readable: [toolchain.libraryDirectory, toolchain.compiler.deletingLastPathComponent().deletingLastPathComponent()]
                + (folder == program.deletingLastPathComponent() ? [] : [program.deletingLastPathComponent()]),
            environment: environment
        ).run(timeout: timeout, outputFile: folder.appendingPathComponent("output.txt"))
        let output = run.output
        if run.timedOut {
            throw DefinitionError(.timeout, [Diagnostic(
                "the definition ran longer than \(Int(timeout)) s and was stopped (set IMAGEC_EVALUATION_TIMEOUT to allow more)",
                at: SourceLocation(file: file.path, line: 1))], output: output)
        }
        if run.status != 0 {
            throw Self.crash(output: output, status: run.status, file: file, templates: templates.map(\.url))
        }
        guard let data = FileManager.default.contents(atPath: resultFile.path) else {
            throw DefinitionError(.crash, [Diagnostic(
                "the definition exited before returning its systems", at: SourceLocation(file: file.path, line: 1))],
                output: output)
        }
        do {
            return (try JSONDecoder().decode(EvaluationResult.self, from: data), output)
        } catch {
            throw BuildEnvironmentError("cannot read the evaluation result of \(file.path): \(error)")
        }
    }

    /// Where two results of the same definition differ (`systems[0].files[2].contents`), or
    /// `nil` when they are the same.
    static func difference(_ first: EvaluationResult, _ second: EvaluationResult) -> String? {
        for (name, a, b) in [("systems", try? JSONValue(encoding: first.systems), try? JSONValue(encoding: second.systems)),
                             ("variants", try? JSONValue(encoding: first.variants), try? JSONValue(encoding: second.variants)),
                             ("bookings", try? JSONValue(encoding: first.bookings), try? JSONValue(encoding: second.bookings))] {
            guard let a, let b else { continue }
            if let path = firstDifference(a, b, path: name) { return path }
        }
        return Set(first.diagnostics) == Set(second.diagnostics) ? nil : "its diagnostics"
    }

    private static func firstDifference(_ a: JSONValue, _ b: JSONValue, path: String) -> String? {
        switch (a, b) {
        case (.array(let x), .array(let y)):
            if x.count != y.count { return "\(path) has \(x.count) then \(y.count) items" }
            return zip(x, y).enumerated().lazy.compactMap { firstDifference($1.0, $1.1, path: "\(path)[\($0)]") }.first
        case (.object(let x), .object(let y)):
            for key in Set(x.keys).union(y.keys).sorted() {
                guard let u = x[key], let v = y[key] else { return "\(path).\(key)" }
                if let found = firstDifference(u, v, path: "\(path).\(key)") { return found }
            }
            return nil
        default:
            return a == b ? nil : path
        }
    }

    /// A definition that crashed. The runtime's message (`Fatal error: …`, `Precondition
    /// failed: …`) says why; the first frame of the backtrace in a definition file says where
    /// (definitions are compiled with line tables for that). What the definition printed
    /// before crashing is kept, the backtrace is not.
    static func crash(output: String, status: Int32, file: URL, templates: [URL]) -> DefinitionError {
        let definitions = Set(([file] + templates).map(\.path))
        let message = output.firstMatch(
            of: /(?m)^(?:[^\n]*[ \t])?(?:[^\s:]+\.swift:\d+: )?(Fatal error|Precondition failed|Assertion failed): ?(.*)$/)
        let crashed = output.firstMatch(of: /\*\*\* (?:Program crashed|Swift runtime failure): (.*?)(?: at 0x[0-9a-f]+)? \*\*\*/)
        // The backtracer may print paths relative to the current folder.
        let frame = output.matches(of: /(?m) at ([^\s:]+\.swift):(\d+):\d+$/).lazy.compactMap { match in
            definitions.first { $0 == match.1 || $0.hasSuffix("/" + match.1) }.map { SourceLocation(file: $0, line: Int(match.2)!) }
        }.first

        var reason = "stopped with status \(status) before returning its systems"
        if let message {
            reason = "crashed while running: " + (message.2.isEmpty ? String(message.1).lowercased() : String(message.2))
        } else if let crashed {
            reason = "crashed while running: \(crashed.1)"
        }
        let location = frame ?? SourceLocation(file: file.path, line: 1)
        let printed = message.map { String(output[..<$0.range.lowerBound]) }
            ?? output.components(separatedBy: "\n*** ").first ?? output
        return DefinitionError(.crash, [Diagnostic("the definition \(reason)", at: location)], output: lastLines(of: printed))
    }

    /// The last 40 lines of what a definition printed, saying how many came before.
    static func lastLines(of output: String, count: Int = 40) -> String {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > count + 1 else { return output }
        return "[\(lines.count - count) earlier lines not shown]\n" + lines.suffix(count).joined(separator: "\n")
    }
}
