import Foundation

/// Debian's control-file format (deb822): paragraphs of `Field: value` lines, continuation lines
/// starting with a space, paragraphs separated by blank lines. dpkg's status file and DEP-5
/// copyright files are written in it.
enum Deb822 {
    /// The paragraphs of `text`, each field's value with its continuation lines (trimmed) after a newline.
    static func paragraphs(_ text: some StringProtocol) -> [[String: String]] {
        var paragraphs: [[String: String]] = [], current: [String: String] = [:], key: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) {
                if !current.isEmpty { paragraphs.append(current) }
                current = [:]
                key = nil
            } else if line.first == " " || line.first == "\t" {
                if let key { current[key, default: ""] += "\n" + line.trimmingCharacters(in: .whitespaces) }
            } else if let colon = line.firstIndex(of: ":") {
                key = String(line[..<colon])
                current[key!] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        if !current.isEmpty { paragraphs.append(current) }
        return paragraphs
    }
}
