import Foundation
import ImageDSL

/// Mistakes a definition's value cannot show but its text does: `mode: 755`, a decimal
/// number where an octal mode was meant (Swift reads it as 0o1363).
enum SourceLint {
    /// The problems of one source file, each at its line.
    static func problems(in text: String, file: String) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard line.contains("mode:") else { continue }  // Regex is slow: most lines need none
            let code = line.firstRange(of: "//").map { line[..<$0.lowerBound] } ?? line
            for match in code.matches(of: /\bmode:\s*([0-9][0-9_]*)\b/) {
                let digits = match.1.filter { $0 != "_" }
                guard (3...4).contains(digits.count), digits.allSatisfy({ ("0"..."7").contains($0) }), let value = Int(digits) else { continue }
                problems.append(Diagnostic(
                    "mode \(digits) is a decimal number (0o\(String(value, radix: 8)) in octal); modes are octal: "
                        + "write 0o\(digits.drop { $0 == "0" }) (or 0o\(String(value, radix: 8)) if that was meant)",
                    at: SourceLocation(file: file, line: index + 1)))
            }
        }
        return problems
    }
}
