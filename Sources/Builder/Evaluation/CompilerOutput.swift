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
    /// An error in the program imagec wraps the file in (under `scratch`: an unclosed `{` is
    /// only seen at its end) is reported at the file, at the `{` the compiler names. After an
    /// unterminated string, what the compiler says of the lines below it is left out: they
    /// were read as part of the string.
    init(_ output: String, file: URL, source: String, emitLine: Int, scratch: String) {
        let declarationLine = source.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.firstMatch(of: /^\s*(let|var)\s+systems?\b/) != nil }.map { $0 + 1 } ?? 1
        let lastLine = source.split(separator: "\n", omittingEmptySubsequences: true).count
        var lines: [String] = []
        var hiding = false
        var unterminated: (path: String, line: Int)?
        var unclosed = false
        var wrapperError: Int?  // the index of a diagnostic moved from the wrapper to the file
        for line in output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            guard let match = line.wholeMatch(of: /(.+?):(\d+):(\d+): (error|warning|note): (.*)/) else {
                // The driver's own "… command failed with exit code 1" adds nothing.
                if !hiding, line.wholeMatch(of: /error: .* command failed with exit code \d+.*/) == nil { lines.append(line) }
                continue
            }
            let path = String(match.1), number = Int(match.2)!, message = String(match.5)
            let severity = Diagnostic.Severity(rawValue: String(match.4)) ?? .error
            // After a string or a brace left open, the rest is its cascade; the note naming the
            // brace is kept (below, it places the error).
            let opening = severity == .note && path == file.path && message.hasPrefix("to match this opening") && wrapperError != nil
            if unterminated != nil || unclosed, path == file.path || path.hasPrefix(scratch), !opening {
                hiding = true
                continue
            }
            if path == file.path, number == emitLine {
                let message = "`system` must be an OperatingSystem and `systems` an array of OperatingSystem (\(match.5))"
                diagnostics.append(Diagnostic(message, at: SourceLocation(file: path, line: declarationLine), severity: severity))
                lines.append("\(path):\(declarationLine): \(severity.rawValue): \(message)")
                hiding = true
                continue
            }
            if path.hasPrefix(scratch) {
                unclosed = severity == .error
                wrapperError = severity == .error ? diagnostics.count : nil
                if severity == .error {
                    diagnostics.append(Diagnostic("\(message) (the file ends first)", at: SourceLocation(file: file.path, line: lastLine)))
                    lines.append("\(file.path):\(lastLine): error: \(message) (the file ends first)")
                }
                hiding = true
                continue
            }
            if opening, let index = wrapperError {
                // "expected '}'…": the brace that is never closed is where it opens.
                let brace = message.firstMatch(of: /'(.)'/).map { String($0.1) } ?? "{"
                diagnostics[index] = Diagnostic("this '\(brace)' is never closed", at: SourceLocation(file: path, line: number))
                lines[lines.count - 1] = "\(path):\(number): error: this '\(brace)' is never closed"
                wrapperError = nil
                hiding = true
                continue
            }
            hiding = severity == .note && (hiding || !path.hasSuffix(".swift") || path.contains("/Sources/EvaluationRuntime/"))
            if hiding { continue }
            diagnostics.append(Diagnostic(message, at: SourceLocation(file: path, line: number), severity: severity))
            lines.append(line)
            if severity == .error, message == "unterminated string literal" { unterminated = (path, number) }
        }
        text = lines.joined(separator: "\n").trimmingCharacters(in: .newlines)
    }

    var error: DefinitionError {
        var errors = diagnostics.filter { $0.severity == .error }
        if errors.isEmpty { errors = [Diagnostic("the definition does not compile", at: nil)] }
        return DefinitionError(.compilation, errors, output: text)
    }
}
