import Foundation

/// Runs an external program to completion, with a time limit, its output captured in a file.
struct Command {
    var executable: String
    var arguments: [String]
    var environment: [String: String]?
    var workingDirectory: URL?

    struct Result {
        var status: Int32
        /// Set when the process was killed by a signal (other than the time limit).
        var signal: Int32?
        var timedOut: Bool
        var output: String
    }

    /// Runs the command, writing its standard output and error to `outputFile`.
    func run(timeout: Double, outputFile: URL) throws -> Result {
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputFile)
        defer { try? output.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output

        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do {
            try process.run()
        } catch {
            throw BuildEnvironmentError("cannot run \(executable): \(error.localizedDescription)")
        }
        Interruption.killOnInterrupt(process.processIdentifier)
        defer { Interruption.forget(process: process.processIdentifier) }
        var timedOut = false
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            finished.wait()
        }
        let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        let bySignal = process.terminationReason == .uncaughtSignal
        return Result(
            status: process.terminationStatus,
            signal: bySignal ? process.terminationStatus : (process.terminationStatus > 128 ? process.terminationStatus - 128 : nil),
            timedOut: timedOut,
            output: text)
    }

    /// The full command line, for error messages.
    var commandLine: String { ([executable] + arguments).joined(separator: " ") }
}

/// Something missing or broken on the build host (not in the definition).
public struct BuildEnvironmentError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
