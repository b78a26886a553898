import Foundation

/// A package's declared licence, read from its machine-readable `copyright` file (DEP-5): the
/// licence of its `Files: *` paragraph, as an SPDX expression. Debian's short names become SPDX
/// identifiers (`GPL-2+` → `GPL-2.0-or-later`, `Expat` → `MIT`); a name SPDX does not know
/// becomes `LicenseRef-…`, with the licence's text from the file when it has one. A file that
/// is not machine-readable, or says nothing usable, gives no licence (NOASSERTION).
public struct DeclaredLicense: Equatable, Sendable {
    /// Such as `GPL-1.0-or-later OR Artistic-1.0-Perl`.
    public var expression: String
    /// The `LicenseRef-` identifiers it uses, with their text.
    public var references: [String: String]

    /// Reads a `copyright` file; `nil` when it declares no licence imagec can name.
    public init?(copyright text: String) {
        let first = text.prefix { $0 != "\n" }
        guard first.hasPrefix("Format:"), first.contains("copyright-format") else { return nil }
        let paragraphs = Deb822.paragraphs(text)
        guard let files = paragraphs.first(where: { $0["Files"]?.split(whereSeparator: \.isWhitespace).contains("*") == true }),
              let field = files["License"] else { return nil }
        let name = field.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        // Stand-alone licence paragraphs: `License: NAME` and its text.
        var texts: [String: String] = [:]
        for paragraph in paragraphs where paragraph["Files"] == nil {
            guard let license = paragraph["License"], let newline = license.firstIndex(of: "\n") else { continue }
            texts[String(license[..<newline]).trimmingCharacters(in: .whitespaces)] = String(license[license.index(after: newline)...])
        }
        var references: [String: String] = [:]
        guard let expression = Self.expression(name, texts: texts, references: &references) else { return nil }
        self.expression = expression
        self.references = references
    }

    /// `GPL-2+ or Artistic` → `GPL-2.0-or-later OR Artistic-1.0-Perl`; `nil` for prose.
    static func expression(_ text: String, texts: [String: String], references: inout [String: String]) -> String? {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard !words.isEmpty, words.count <= 9 else { return nil }
        var parts: [String] = [], index = 0
        while index < words.count {
            let word = words[index]
            switch word.lowercased() {
            case "or", "and":
                guard !parts.isEmpty, index + 1 < words.count else { return nil }
                parts.append(word.uppercased())
            case "with":
                // `GPL-2 with Linux-syscall-note exception`
                guard index + 1 < words.count else { return nil }
                let exception = words[index + 1]
                guard Self.exceptions.contains(exception) else { return nil }
                parts.append("WITH \(exception)")
                index += words.count > index + 2 && words[index + 2].lowercased() == "exception" ? 2 : 1
            default:
                let name = word.trimmingCharacters(in: CharacterSet(charactersIn: ",;"))
                if let known = Self.identifiers[name] ?? Self.identifiers[name.lowercased()] {
                    parts.append(known)
                } else {
                    let reference = "LicenseRef-" + String(name.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "-" })
                    guard name.count <= 40, name.contains(where: \.isLetter), parts.last.map({ ["OR", "AND"].contains($0) || $0.hasPrefix("WITH") }) ?? true
                    else { return nil }
                    references[reference] = texts[name] ?? "The licence named \(name) in the package's copyright file."
                    parts.append(reference)
                }
            }
            index += 1
        }
        guard let last = parts.last, last != "OR", last != "AND" else { return nil }
        return parts.joined(separator: " ")
    }

    static let exceptions: Set<String> = ["Linux-syscall-note", "GCC-exception-3.1", "Autoconf-exception-3.0", "Bison-exception-2.2", "OpenSSL-exception"]

    /// Debian's usual short names, and SPDX's own, to SPDX identifiers.
    static let identifiers: [String: String] = {
        var table: [String: String] = [
            "GPL-1": "GPL-1.0-only", "GPL-1+": "GPL-1.0-or-later", "GPL-2": "GPL-2.0-only", "GPL-2+": "GPL-2.0-or-later",
            "GPL-2.0+": "GPL-2.0-or-later", "GPL-3": "GPL-3.0-only", "GPL-3+": "GPL-3.0-or-later", "GPLv2": "GPL-2.0-only",
            "GPLv2+": "GPL-2.0-or-later", "GPLv3": "GPL-3.0-only", "GPLv3+": "GPL-3.0-or-later",
            "LGPL-2": "LGPL-2.0-only", "LGPL-2+": "LGPL-2.0-or-later", "LGPL-2.1": "LGPL-2.1-only", "LGPL-2.1+": "LGPL-2.1-or-later",
            "LGPL-3": "LGPL-3.0-only", "LGPL-3+": "LGPL-3.0-or-later", "AGPL-3": "AGPL-3.0-only", "AGPL-3+": "AGPL-3.0-or-later",
            "GFDL-1.2+": "GFDL-1.2-or-later", "GFDL-1.3": "GFDL-1.3-only", "GFDL-1.3+": "GFDL-1.3-or-later",
            "Artistic": "Artistic-1.0-Perl", "Artistic-2.0": "Artistic-2.0", "Expat": "MIT", "MIT": "MIT",
            "BSD-2-clause": "BSD-2-Clause", "BSD-3-clause": "BSD-3-Clause", "BSD-4-clause": "BSD-4-Clause",
            "Apache-2": "Apache-2.0", "Apache-2.0": "Apache-2.0", "zlib": "Zlib", "Zlib": "Zlib", "ISC": "ISC", "X11": "X11",
            "curl": "curl", "OpenLDAP-2.8": "OLDAP-2.8", "MPL-1.1": "MPL-1.1", "MPL-2.0": "MPL-2.0", "CC0-1.0": "CC0-1.0",
            "CC-BY-3.0": "CC-BY-3.0", "CC-BY-4.0": "CC-BY-4.0", "CC-BY-SA-3.0": "CC-BY-SA-3.0", "CC-BY-SA-4.0": "CC-BY-SA-4.0",
            "FSFULLR": "FSFULLR", "FSFUL": "FSFUL", "FSFAP": "FSFAP", "PSF-2": "Python-2.0", "Python": "Python-2.0",
            "OpenSSL": "OpenSSL", "BSL-1.0": "BSL-1.0", "Unicode-DFS-2016": "Unicode-DFS-2016", "WTFPL": "WTFPL",
            "Beerware": "Beerware", "SSLeay": "SSLeay", "bzip2-1.0.6": "bzip2-1.0.6", "Sleepycat": "Sleepycat",
            "EPL-1.0": "EPL-1.0", "EPL-2.0": "EPL-2.0", "OFL-1.1": "OFL-1.1", "Vim": "Vim", "Ruby": "Ruby", "PHP-3.01": "PHP-3.01",
        ]
        for value in Set(table.values) { table[value] = value }
        for (key, value) in table { table[key.lowercased()] = table[key.lowercased()] ?? value }
        return table
    }()
}
