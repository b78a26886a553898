import Foundation

/// Runs an external program to completion: the one way imagec runs one (QEMU, which runs
/// beside imagec, is started by `GuestMachine`). The program gets no signal blocked (see
/// `Process.start()`), standard input from /dev/null, a time limit after which it is killed
/// with its children, and is killed on Ctrl-C; its output is captured in files (two pipes read
/// in turn could block it), so an error can show it.
public struct Command: Sendable {
    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]?
    public var workingDirectory: URL?
    /// The Debian package that provides the program, named when it cannot be started.
    public var package: String?

    public init(executable: String, arguments: [String], environment: [String: String]? = nil, workingDirectory: URL? = nil,
                package: String? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.package = package
    }

    public struct Result: Sendable {
        public var status: Int32
        public var timedOut: Bool
        /// What it printed (standard output and error together, or standard error alone for
        /// ``output(timeout:failure:)``), at most a MiB (its beginning and its end).
        public var output: String
    }

    /// Runs the command, writing its standard output and error to `outputFile`.
    public func run(timeout: Double, outputFile: URL) throws -> Result {
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputFile)
        defer { try? output.close() }
        let (status, timedOut) = try run(timeout: timeout, standardOutput: output, standardError: output)
        return Result(status: status, timedOut: timedOut, output: Self.read(outputFile))
    }

    /// Runs the command and returns its standard output; when it fails (or takes longer than
    /// `timeout`), the error `failure` makes of the result (its standard error) is thrown.
    public func output(timeout: Double = 3600, failure: (Result) -> any Error) throws -> String {
        let files = (0..<2).map { FileManager.default.temporaryDirectory.appendingPathComponent("imagec-\(getpid())-\(UUID().uuidString)-\($0)") }
        defer { files.forEach { try? FileManager.default.removeItem(at: $0) } }
        for file in files { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        let handles = try files.map { try FileHandle(forWritingTo: $0) }
        defer { handles.forEach { try? $0.close() } }
        let (status, timedOut) = try run(timeout: timeout, standardOutput: handles[0], standardError: handles[1])
        guard status == 0, !timedOut else {
            throw failure(Result(status: status, timedOut: timedOut, output: Self.read(files[1]).trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        return String(decoding: (try? Data(contentsOf: files[0])) ?? Data(), as: UTF8.self)
    }

    private func run(timeout: Double, standardOutput: FileHandle, standardError: FileHandle) throws -> (status: Int32, timedOut: Bool) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = standardOutput
        process.standardError = standardError

        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do {
            try process.start()
        } catch {
            throw BuildEnvironmentError("cannot run \(executable): \(error.localizedDescription)" + (package.map { " (install \($0))" } ?? ""))
        }
        Interruption.killOnInterrupt(process.processIdentifier)
        defer { Interruption.forget(process: process.processIdentifier) }
        var timedOut = false
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            let descendants = Interruption.descendants(of: process.processIdentifier)
            Interruption.killTree(process.processIdentifier)
            finished.wait()
            // The processes it started are killed too, and gone before this returns.
            Interruption.waitUntilGone(descendants, seconds: 10)
        }
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return (status, timedOut)
    }

    /// At most a MiB of what a program printed: all of it, or its beginning and its end (where
    /// the reason it failed is), with what was cut in between said.
    static func read(_ file: URL, limit: Int = 1 << 20) -> String {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return "" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: 0)
        guard size > UInt64(limit) else { return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self) }
        let head = (try? handle.read(upToCount: limit / 16)) ?? Data()
        let tailSize = limit - limit / 16
        try? handle.seek(toOffset: size - UInt64(tailSize))
        let tail = (try? handle.readToEnd()) ?? Data()
        return String(decoding: head, as: UTF8.self) + "\n[\(size - UInt64(limit)) bytes of output cut]\n" + String(decoding: tail, as: UTF8.self)
    }

}

/// Something missing or broken on the build host (not in the definition).
public struct BuildEnvironmentError: Error, CustomStringConvertible {
    public var description: String
    /// The file the problem is about, if one is (a lock whose packages no source has).
    public var file: String?
    public init(_ description: String, file: String? = nil) {
        self.description = description
        self.file = file
    }
}
