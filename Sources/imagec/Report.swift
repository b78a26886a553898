import Foundation
import ImagecCore
import ImageDSL

/// How imagec talks to people: errors in the compiler's `file:line: error: …` style with
/// paths relative to the current directory, on standard error.
enum Report {
    /// `error: message`, or `file: error: message` for a problem about a file.
    static func error(_ message: String, file: String? = nil) {
        FileHandle.standardError.write(Data("\(file.map { relative($0) + ": " } ?? "")error: \(message)\n".utf8))
    }

    static func print(_ diagnostic: Diagnostic) {
        var diagnostic = diagnostic
        if let file = diagnostic.location?.file { diagnostic.location?.file = relative(file) }
        diagnostic.message = relativePaths(in: diagnostic.message)
        FileHandle.standardError.write(Data("\(diagnostic)\n".utf8))
    }

    static func print(_ error: DefinitionError) {
        switch error.kind {
        case .compilation:
            FileHandle.standardError.write(Data((relativePaths(in: error.output) + "\n").utf8))
            let count = error.diagnostics.count
            Report.error("the definition does not compile (\(count) error\(count == 1 ? "" : "s"))")
        case .crash, .timeout, .invalid:
            error.diagnostics.forEach(print)
            printed(error.output)
        }
    }

    /// What a definition printed while it ran, on standard error so `--json` output stays clean.
    static func printed(_ output: String) {
        guard !output.isEmpty else { return }
        FileHandle.standardError.write(Data("note: the definition printed:\n\(output)".utf8))
        if !output.hasSuffix("\n") { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    /// `path` relative to the current directory when it is below it.
    static func relative(_ path: String) -> String {
        let current = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(current) ? String(path.dropFirst(current.count)) : path
    }

    static func relativePaths(in text: String) -> String {
        text.replacingOccurrences(of: FileManager.default.currentDirectoryPath + "/", with: "")
    }
}
