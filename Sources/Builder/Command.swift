import Foundation

/// Runs an external program to completion, with a time limit, its output captured in a file.
struct Command {
    var executable: String
    var arguments: [String]
    var environment: [String: String]?
    var workingDirectory: URL?

    struct Result {
        var status: Int32
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
            try process.start()
        } catch {
            throw BuildEnvironmentError("cannot run \(executable): \(error.localizedDescription)")
        }
        Interruption.killOnInterrupt(process.processIdentifier)
        defer { Interruption.forget(process: process.processIdentifier) }
        var timedOut = false
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            Interruption.killTree(process.processIdentifier)
            finished.wait()
        }
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return Result(status: status, timedOut: timedOut, output: Self.read(outputFile))
    }

    /// At most the first MiB of what a program printed.
    static func read(_ file: URL, limit: Int = 1 << 20) -> String {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return "" }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: limit + 1)) ?? Data()
        let text = String(decoding: data.prefix(limit), as: UTF8.self)
        return data.count > limit ? text + "\n[output cut at \(limit) bytes]\n" : text
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
