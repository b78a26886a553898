import Foundation
import ImageDSL

/// The build host's apt sources (`/etc/apt/sources.list` and `sources.list.d`, one-line and
/// deb822 formats), used when a definition declares none.
public enum HostAptSources {
    /// The host's `deb` sources, with the host's release replaced by `release` in every suite
    /// (`bookworm-updates` becomes `trixie-updates`), as mmdebstrap does without a mirror.
    public static func read(
        for release: String, root: URL = URL(fileURLWithPath: "/etc/apt"), hostRelease: String? = hostCodename()
    ) -> [AptSource] {
        var sources: [AptSource] = []
        var files = [root.appendingPathComponent("sources.list")]
        let parts = root.appendingPathComponent("sources.list.d")
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: parts.path)) ?? []).sorted() {
            files.append(parts.appendingPathComponent(name))
        }
        for file in files {
            guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
            if file.pathExtension == "sources" {
                sources += deb822(text)
            } else if file.pathExtension == "list" {
                sources += oneLine(text)
            }
        }
        return sources.map { source in
            var source = source
            if let hostRelease, hostRelease != release {
                source.suites = source.suites.map { suite in
                    suite == hostRelease || suite.hasPrefix(hostRelease + "-")
                        ? release + suite.dropFirst(hostRelease.count) : suite
                }
            }
            return source
        }
    }

    public static func hostCodename() -> String? {
        guard let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("VERSION_CODENAME=") }
            .map { String($0.dropFirst("VERSION_CODENAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
    }

    /// deb822 stanzas: `Types`, `URIs`, `Suites`, `Components`, `Signed-By`, `Enabled`.
    static func deb822(_ text: String) -> [AptSource] {
        text.components(separatedBy: "\n\n").compactMap { stanza in
            var fields: [String: String] = [:]
            var last: String?
            for line in stanza.split(separator: "\n") where !line.hasPrefix("#") {
                if line.first?.isWhitespace == true, let key = last {
                    fields[key, default: ""] += "\n" + line.trimmingCharacters(in: .whitespaces)
                } else if let colon = line.firstIndex(of: ":") {
                    let key = line[..<colon].lowercased()
                    fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    last = key
                }
            }
            let words = { (key: String) in (fields[key] ?? "").split(whereSeparator: \.isWhitespace).map(String.init) }
            guard words("types").contains("deb"), fields["enabled"]?.lowercased() != "no",
                  !words("uris").isEmpty, !words("suites").isEmpty
            else { return nil }
            let signedBy = fields["signed-by"].flatMap { $0.hasPrefix("/") && !$0.contains("\n") ? $0 : nil }
            return AptSource(uris: words("uris"), suites: words("suites"), components: words("components"), signedBy: signedBy)
        }
    }

    /// `deb [options] uri suite component…` lines.
    static func oneLine(_ text: String) -> [AptSource] {
        text.split(separator: "\n").compactMap { line in
            var words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard words.first == "deb" else { return nil }
            words.removeFirst()
            var signedBy: String?
            if words.first?.hasPrefix("[") == true {
                while let word = words.first {
                    words.removeFirst()
                    if word.contains("signed-by=") { signedBy = word.components(separatedBy: "signed-by=").last?.trimmingCharacters(in: CharacterSet(charactersIn: "]")) }
                    if word.hasSuffix("]") { break }
                }
            }
            guard words.count >= 2 else { return nil }
            return AptSource(uris: [words[0]], suites: [words[1]], components: Array(words.dropFirst(2)), signedBy: signedBy)
        }
    }
}
