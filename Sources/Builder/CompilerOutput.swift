import Foundation
import ImageDSL

/// The compiler's errors for a definition, in its `file:line:column: error: message` format.
struct CompilerOutput {
    var diagnostics: [Diagnostic] = []
    var text: String

    /// `emitLine` is the line imagec appended to hand the systems back; an error there means
    /// `system` or `systems` has the wrong type.
    init(_ output: String, file: URL, emitLine: Int) {
        var lines: [String] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            guard let match = line.wholeMatch(of: /(.+?):(\d+):(\d+): (error|warning|note): (.*)/) else {
                lines.append(line)
                continue
            }
            let path = String(match.1)
            let lineNumber = Int(match.2)!
            var message = String(match.5)
            if path == file.path, lineNumber == emitLine {
                message = "`system` must be an OperatingSystem and `systems` an array of OperatingSystem (\(message))"
            }
            let severity = Diagnostic.Severity(rawValue: String(match.4)) ?? .error
            let location = SourceLocation(file: path, line: path == file.path && lineNumber == emitLine ? 1 : lineNumber)
            if severity != .note || !diagnostics.isEmpty {
                diagnostics.append(Diagnostic(message, at: location, severity: severity))
            }
            lines.append("\(location.file):\(location.line):\(match.3): \(severity.rawValue): \(message)")
        }
        text = lines.joined(separator: "\n")
    }

    var error: DefinitionError {
        var errors = diagnostics.filter { $0.severity == .error }
        if errors.isEmpty { errors = [Diagnostic("the definition does not compile", at: nil)] }
        return DefinitionError(.compilation, errors, output: text)
    }
}
