import Foundation
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

    public init(toolchain: DSLToolchain, sandbox: Sandbox, cache: EvaluationCache?, timeout: Double = 60) {
        self.toolchain = toolchain
        self.sandbox = sandbox
        self.cache = cache
        self.timeout = timeout
    }

    /// An evaluator for this machine: the toolchain beside imagec, bubblewrap, the default
    /// cache, and `$IMAGEC_EVALUATION_TIMEOUT` (default 60 s).
    public static func standard(useCache: Bool = true) throws -> Evaluator {
        let timeout = ProcessInfo.processInfo.environment["IMAGEC_EVALUATION_TIMEOUT"].flatMap(Double.init) ?? 60
        return Evaluator(
            toolchain: try DSLToolchain.locate(), sandbox: try Sandbox.detect(),
            cache: useCache ? EvaluationCache(directory: EvaluationCache.defaultDirectory) : nil, timeout: timeout)
    }

    /// Evaluates one system file.
    ///
    /// - Throws: ``DefinitionError`` for a definition at fault (with every problem and its
    ///   location), ``UsageError`` for a file that cannot be read, ``BuildEnvironmentError``
    ///   for a problem of the host.
    public func evaluate(_ path: String) throws -> Evaluation {
        let file = URL(fileURLWithPath: path).standardizedFileURL
        guard let source = FileManager.default.contents(atPath: file.path) else {
            throw UsageError("\(path): no such file")
        }
        let templates = Self.templates(for: file)
        var templateSources: [(URL, Data)] = []
        for template in templates {
            guard let data = FileManager.default.contents(atPath: template.path) else {
                throw UsageError("\(template.path): cannot read template")
            }
            templateSources.append((template, data))
        }

        var key: String?
        if let cache {
            var identity = "imagec-evaluation 1\nimagec \(Imagec.version)\n"
            identity += "compiler \(try cache.compilerVersion(of: toolchain.compiler))\n"
            identity += "library \(toolchain.libraryFingerprint())\n"
            identity += "file \(file.path) \(CanonicalJSON.sha256(source))\n"
            for (template, data) in templateSources { identity += "template \(template.path) \(CanonicalJSON.sha256(data))\n" }
            key = CanonicalJSON.sha256(Data(identity.utf8))
            if let entry = cache.load(key: key!) {
                return try Evaluation(file: file, result: entry.result, output: entry.output, cacheHit: true)
            }
        }

        let (result, output) = try compileAndRun(file, source: source, templates: templates)
        if let cache, let key {
            try cache.store(EvaluationCache.Entry(result: result, output: output), key: key)
        }
        return try Evaluation(file: file, result: result, output: output, cacheHit: false)
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

    private func compileAndRun(_ file: URL, source: Data, templates: [URL]) throws -> (EvaluationResult, String) {
        let cacheDirectory = cache?.directory ?? EvaluationCache.defaultDirectory
        let scratch = scratchRoot.appendingPathComponent("imagec-eval-\(UUID().uuidString)")
        Interruption.removeOnInterrupt(scratch)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(at: scratch)
            Interruption.forget(scratch)
        }

        // The definition becomes the program's main file; #sourceLocation keeps every
        // diagnostic, #line and crash report pointing at the user's own file.
        var text = String(decoding: source, as: UTF8.self)
        if !text.hasSuffix("\n") { text += "\n" }
        let lineCount = text.split(separator: "\n", omittingEmptySubsequences: false).count - 1
        let emitLine = lineCount + 1
        let main = """
            import EvaluationRuntime
            EvaluationRuntime.prepareOutput()
            #sourceLocation(file: "\(file.path)", line: 1)
            \(text)#sourceLocation(file: "\(file.path)", line: \(emitLine))
            EvaluationRuntime.emit(system, systems, file: #filePath)

            """
        try main.write(to: scratch.appendingPathComponent("main.swift"), atomically: true, encoding: .utf8)

        let program = scratch.appendingPathComponent("definition")
        var arguments = [
            "-swift-version", "5", "-diagnostic-style", "llvm", "-module-name", "Definitions",
            "-I", toolchain.moduleDirectory.path, "-L", toolchain.libraryDirectory.path, "-lImageDSL",
            "-Xlinker", "-rpath", "-Xlinker", toolchain.libraryDirectory.path,
            "-module-cache-path", cacheDirectory.appendingPathComponent("module-cache").path,
            scratch.appendingPathComponent("main.swift").path,
        ]
        arguments += templates.map(\.path)
        arguments += ["-o", program.path]
        let compilation = try Command(executable: toolchain.compiler.path, arguments: arguments)
            .run(timeout: compileTimeout, outputFile: scratch.appendingPathComponent("compiler.txt"))
        if compilation.timedOut {
            throw DefinitionError(.timeout, [Diagnostic(
                "compiling the definition took longer than \(Int(compileTimeout)) s", at: SourceLocation(file: file.path, line: 1))])
        }
        if compilation.status != 0 {
            throw CompilerOutput(compilation.output, file: file, source: text, emitLine: emitLine).error
        }

        let resultFile = scratch.appendingPathComponent("result.json")
        let run = try sandbox.command(
            running: program, scratch: scratch,
            readable: [toolchain.libraryDirectory, toolchain.compiler.deletingLastPathComponent().deletingLastPathComponent()],
            environment: [
                "IMAGEC_RESULT_PATH": resultFile.path, "SWIFT_BACKTRACE": "enable=no",
                "PATH": "/usr/bin:/bin", "HOME": scratch.path, "LANG": "C.UTF-8",
            ]
        ).run(timeout: timeout, outputFile: scratch.appendingPathComponent("output.txt"))
        let output = run.output
        if run.timedOut {
            throw DefinitionError(.timeout, [Diagnostic(
                "the definition ran longer than \(Int(timeout)) s and was stopped (set IMAGEC_EVALUATION_TIMEOUT to allow more)",
                at: SourceLocation(file: file.path, line: 1))], output: output)
        }
        if run.status != 0 || run.signal != nil {
            throw Self.crash(output: output, status: run.status, file: file, templates: templates)
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

    /// A definition that trapped: the Swift runtime's `Fatal error` line names file and line.
    /// What the definition printed before it is kept; the stack trace after it is not.
    static func crash(output: String, status: Int32, file: URL, templates: [URL]) -> DefinitionError {
        let pattern = /(?m)^(?:[^\n]*[ \t])?([^\s:]+\.swift):(\d+): Fatal error: ?(.*)$/
        guard let match = output.firstMatch(of: pattern) else {
            return DefinitionError(.crash, [Diagnostic(
                "the definition stopped with status \(status) before returning its systems",
                at: SourceLocation(file: file.path, line: 1))], output: output)
        }
        let name = URL(fileURLWithPath: String(match.1)).lastPathComponent
        let source = ([file] + templates).first { $0.lastPathComponent == name }?.path ?? String(match.1)
        let reason = match.3.isEmpty ? "fatal error" : String(match.3)
        return DefinitionError(.crash, [Diagnostic(
            "the definition crashed while running: \(reason)", at: SourceLocation(file: source, line: Int(match.2)!))],
            output: String(output[..<match.range.lowerBound]))
    }
}

/// A command-line argument that names something unusable (a missing file, an unknown system).
public struct UsageError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
