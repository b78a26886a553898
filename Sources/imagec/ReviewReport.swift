import DefinitionReview
import Foundation
import ImagecCore

/// A ``Review`` for people: plain or colored text for a terminal, or Markdown for a merge
/// request comment. Systems with the same changes (the workers of one template) are shown once.
struct ReviewReport {
    let review: Review
    var color = false

    /// A line of a system's changes: `+` added, `-` removed, `~` changed, `@` a diff hunk
    /// header, ` ` anything else; its depth; its text.
    struct Line {
        var mark: Character
        var depth: Int
        var text: String
    }

    /// Systems with identical changes, in host name order of their first member.
    var groups: [[Review.SystemChanges]] {
        var groups: [[Review.SystemChanges]] = []
        for system in review.systems where system.status != .unchanged {
            if let index = groups.firstIndex(where: { Self.sameChanges($0[0], system) }) {
                groups[index].append(system)
            } else {
                groups.append([system])
            }
        }
        return groups
    }

    /// Same status, changes, packages and files; a host's own values (addresses, names) differ anyway.
    static func sameChanges(_ a: Review.SystemChanges, _ b: Review.SystemChanges) -> Bool {
        a.status == b.status && a.status != .renamed && a.changes == b.changes && a.packages == b.packages
            && a.oldFile == b.oldFile && a.newFile == b.newFile && a.notes == b.notes
    }

    /// The lines of a group's changes: digests (unless a table shows them), notes, then each section.
    func lines(_ group: [Review.SystemChanges], digests: Bool = true) -> [Line] {
        var lines: [Line] = []
        for system in group where digests && (system.oldDigest != nil || system.newDigest != nil) {
            let label = group.count > 1 ? "digest of \(system.hostName)" : "digest"
            lines.append(Line(mark: system.digestChanged ? "~" : " ", depth: 0,
                              text: "\(label): \(short(system.oldDigest)) → \(short(system.newDigest))"))
        }
        let first = group[0]
        lines += first.notes.map { Line(mark: " ", depth: 0, text: "note: \($0)") }
        for (section, changes) in sections(first) {
            lines.append(Line(mark: " ", depth: 0, text: section))
            for change in changes {
                let source = change.source.map { "  (\($0))" } ?? ""
                switch change.kind {
                case .added:
                    lines.append(Line(mark: "+", depth: 1, text: change.item + (change.new.map { $0 == change.item ? "" : ": \($0)" } ?? "") + source))
                case .removed:
                    lines.append(Line(mark: "-", depth: 1, text: change.item + (change.old.map { $0 == change.item ? "" : ": \($0)" } ?? "") + source))
                case .changed:
                    let values = change.old != nil || change.new != nil ? ": \(change.old ?? "none") → \(change.new ?? "none")" : ""
                    lines.append(Line(mark: "~", depth: 1, text: change.item + values + source))
                }
                for line in (change.textDiff ?? "").split(separator: "\n") {
                    let mark: Character = line.hasPrefix("@@") ? "@" : line.first == "+" ? "+" : line.first == "-" ? "-" : " "
                    lines.append(Line(mark: mark, depth: 2, text: mark == "@" ? String(line) : String(line.dropFirst())))
                }
            }
        }
        if !first.packages.isEmpty {
            lines.append(Line(mark: " ", depth: 0, text: "locked packages"))
            lines += first.packages.map { Line(mark: $0.mark, depth: 1, text: $0.text) }
        }
        return lines
    }

    func title(_ group: [Review.SystemChanges]) -> String {
        let names = group.map(\.hostName)
        return names.count > 3 ? "\(names[0]) … \(names[names.count - 1]) (\(names.count) systems)" : names.joined(separator: ", ")
    }

    func status(_ system: Review.SystemChanges) -> String {
        switch system.status {
        case .renamed: "renamed from \(system.oldHostName ?? "")"
        default: system.status.rawValue
        }
    }

    func file(_ system: Review.SystemChanges) -> String {
        switch (system.oldFile, system.newFile) {
        case (let old?, let new?) where old != new: "\(old) → \(new)"
        default: system.newFile ?? system.oldFile ?? ""
        }
    }

    // MARK: Text

    func text() -> String {
        // Sides that do not evaluate are reported on standard error, as compiler errors are.
        var out = bold("\(review.old) → \(review.new)") + (review.newIsDirty ? " (uncommitted changes included)" : "") + "\n"
        for group in groups {
            let code = switch group[0].status { case .added: 32; case .removed: 31; case .renamed: 33; default: 0 }
            out += "\n" + bold(title(group)) + "  (\(file(group[0])))  " + paint(status(group[0]), code) + "\n"
            for line in lines(group) {
                let indent = String(repeating: "  ", count: line.depth + 1)
                switch line.mark {
                case "+": out += paint("\(indent)+ \(line.text)", 32) + "\n"
                case "-": out += paint("\(indent)- \(line.text)", 31) + "\n"
                case "~": out += paint("\(indent)~ \(line.text)", 33) + "\n"
                case "@": out += paint("\(indent)\(line.text)", 36) + "\n"
                default: out += (line.depth == 0 && !line.text.contains(":") ? indent + bold(line.text) : "\(indent)  \(line.text)") + "\n"
                }
            }
        }
        let unchanged = review.systems.filter { $0.status == .unchanged }.count
        if groups.isEmpty, review.failures.isEmpty { out += "\nno system changes\n" }
        if unchanged > 0 { out += "\n\(unchanged) system\(unchanged == 1 ? "" : "s") unchanged\n" }
        return out
    }

    private func sections(_ system: Review.SystemChanges) -> [(String, [ModelChange])] {
        let order = ["distribution", "kernel", "packages", "services", "users", "groups", "files", "units", "network", "mounts",
                     "disk", "locale", "deployment", "host name"]
        let names = Set(system.changes.map(\.section)).sorted { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }
        return names.map { name in (name, system.changes.filter { $0.section == name }) }
    }

    private func short(_ digest: String?) -> String {
        guard let digest else { return "none" }
        return "sha256:" + shortDigest(digest)
    }

    private func paint(_ text: String, _ code: Int) -> String { color && code != 0 ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    private func bold(_ text: String) -> String { color ? "\u{1B}[1m\(text)\u{1B}[0m" : text }

    // MARK: Markdown

    /// A merge request comment: a summary table, then one collapsible section per group of
    /// systems, its lines in a `diff` block so the forge colors them.
    func markdown() -> String {
        var out = "### imagec: what changes in each system\n\n"
        out += "`\(review.old)` → `\(review.new)`" + (review.newIsDirty ? " (uncommitted changes included)" : "") + "\n\n"
        for failure in review.failures {
            out += "> **\(failure.side): `\(failure.file)` does not evaluate**\n>\n"
            out += failure.errors.map { "> `\(failure.side): \($0)`\n" }.joined() + "\n"
        }
        let changed = review.systems.filter { $0.status != .unchanged }
        if changed.isEmpty { return out + "No system changes.\n" }
        out += "| system | file | status | image digest |\n|---|---|---|---|\n"
        for system in changed {
            let digest = system.digestChanged ? "`\(short(system.oldDigest))` → `\(short(system.newDigest))`" : "unchanged"
            out += "| \(system.hostName) | `\(file(system))` | \(status(system)) | \(digest) |\n"
        }
        for group in groups {
            out += "\n<details><summary><b>\(title(group))</b>: \(status(group[0])) — \(group[0].reasons.joined(separator: "; "))</summary>\n\n```diff\n"
            for line in lines(group, digests: false) {
                let indent = String(repeating: "  ", count: line.depth)
                let mark = line.mark == "~" ? "!" : line.mark == "@" ? " " : line.mark
                out += "\(mark) \(indent)\(line.text.replacingOccurrences(of: "```", with: "`\u{200B}``"))\n"
            }
            out += "```\n\n</details>\n"
        }
        let unchanged = review.systems.count - changed.count
        if unchanged > 0 { out += "\n\(unchanged) system\(unchanged == 1 ? "" : "s") unchanged.\n" }
        return out
    }
}
