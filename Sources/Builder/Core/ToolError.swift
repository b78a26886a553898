import Foundation

/// An external tool that failed: its command, status and the end of its output.
public struct ToolError: Error, CustomStringConvertible {
    public var description: String

    public init(_ tool: String, _ result: Command.Result) {
        let tail = result.output.split(separator: "\n", omittingEmptySubsequences: false).suffix(25).joined(separator: "\n")
        description = result.timedOut
            ? "\(tool) took too long and was stopped\n\(tail)"
            : "\(tool) failed with status \(result.status):\n\(tail)"
    }
}
