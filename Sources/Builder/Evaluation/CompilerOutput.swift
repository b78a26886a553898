import Foundation
import ImagecCore
import ImageDSL

/// The compiler's errors for a definition, in its `file:line:column: error: message` format.
struct CompilerOutput {
    var diagnostics: [Diagnostic] = []
    /// The compiler's output as shown to the user: imagec's own appended line and notes
    /// about imagec's sources are left out.
    var text: String

    /// `emitLine` is the line imagec appended to hand the systems back; an error there means
    /// `system` or `systems` has the wrong type, and is reported where the file declares them.
    init(_ output: String, file: URL, source: String, emitLine: Int) {
        let declarationLine = source.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.firstMatch(of: /^\s*(let|var)\s+systems?\b/) != nil }.map { $0 + 1 } ?? 1
        var lines: [String] = []
        var hiding = false
        for line in output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            guard let match = line.wholeMatch(of: /(.+?):(\d+):(\d+): (error|warning|note): (.*)/) else {
                // The driver's own "… command failed with exit code 1" adds nothing.
                if !hiding, line.wholeMatch(of: /error: .* command failed with exit code \d+.*/) == nil { lines.append(line) }
                continue
            }
            let path = String(match.1)
            let severity = Diagnostic.Severity(rawValue: String(match.4)) ?? .error
            if path == file.path, Int(match.2)! == emitLine {
                let message = "`system` must be an OperatingSystem and `systems` an array of OperatingSystem (\(match.5))"
                diagnostics.append(Diagnostic(message, at: SourceLocation(file: path, line: declarationLine), severity: severity))
                lines.append("\(path):\(declarationLine): \(severity.rawValue): \(message)")
                hiding = true
                continue
            }
            hiding = severity == .note && (hiding || !path.hasSuffix(".swift") || path.contains("/Sources/EvaluationRuntime/"))
            if hiding { continue }
            diagnostics.append(Diagnostic(String(match.5), at: SourceLocation(file: path, line: Int(match.2)!), severity: severity))
            lines.append(line)
        }
        text = lines.joined(separator: "\n").trimmingCharacters(in: .newlines)
    }

    var error: DefinitionError {
        var errors = diagnostics.filter { $0.severity == .error }
        if errors.isEmpty { errors = [Diagnostic("the definition does not compile", at: nil)] }
        return DefinitionError(.compilation, errors, output: text)
    }
}
