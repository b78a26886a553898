import Foundation
import ImageDSL

/// What `imagec audit` found: each open CVE with its source package, the binaries that carry
/// it, the installed and fixed versions, its urgency, and the systems, images and hosts it is
/// in; the undetermined ones apart; what suppressions hide; what the tracker does not cover.
public struct AuditReport: Codable, Equatable, Sendable {
    /// Which tracker file it was read from, and its SHA-256.
    public var tracker: String
    public var trackerSHA256: String
    public var date: CalendarDay
    public var findings: [Finding]
    public var suppressed: [Suppressed]
    /// Subjects whose release the tracker does not cover: not "safe", not tracked.
    public var notTracked: [Untracked]

    public struct Finding: Codable, Equatable, Sendable, Comparable {
        public enum Kind: String, Codable, Sendable {
            /// Fixed in a later version than the one installed.
            case fixedLater = "fixed-later"
            /// Open: no fixed version yet.
            case open
            /// The tracker has not determined whether the release is affected.
            case undetermined
        }

        public var cve: String
        public var kind: Kind
        public var source: String
        /// The source package's version installed.
        public var installedVersion: String
        public var fixedVersion: String?
        public var release: String
        public var urgency: String
        public var nodsa: String?
        public var binaries: [String]
        public var subjects: [SubjectReference]
        /// A suppression that has expired, reported with the finding.
        public var expiredSuppression: String?

        public init(cve: String, kind: Kind, source: String, installedVersion: String, fixedVersion: String?, release: String, urgency: String,
                    nodsa: String?, binaries: [String], subjects: [SubjectReference], expiredSuppression: String? = nil) {
            self.cve = cve
            self.kind = kind
            self.source = source
            self.installedVersion = installedVersion
            self.fixedVersion = fixedVersion
            self.release = release
            self.urgency = urgency
            self.nodsa = nodsa
            self.binaries = binaries
            self.subjects = subjects
            self.expiredSuppression = expiredSuppression
        }

        public static func < (a: Finding, b: Finding) -> Bool {
            (a.kind == .undetermined ? 1 : 0, a.source, a.cve, a.installedVersion, a.release) < (b.kind == .undetermined ? 1 : 0, b.source, b.cve, b.installedVersion, b.release)
        }

        /// The urgency's rank for --fail-on: unimportant 0, low 1, medium 2, high 3; unassigned counts as medium.
        public var severity: Int {
            switch urgency.split(separator: "*").first.map(String.init) ?? urgency {
            case "unimportant": return 0
            case "low": return 1
            case "high": return 3
            default: return 2
            }
        }
    }

    public struct SubjectReference: Codable, Hashable, Sendable, Comparable {
        public var kind: AuditSubject.Kind
        public var name: String
        public var digest: String?

        public init(kind: AuditSubject.Kind, name: String, digest: String?) {
            self.kind = kind
            self.name = name
            self.digest = digest
        }

        public static func < (a: SubjectReference, b: SubjectReference) -> Bool { (a.kind, a.name) < (b.kind, b.name) }

        public var text: String { "\(kind.rawValue) \(name)" + (digest.map { " (\($0.prefix(19)))" } ?? "") }
    }

    public struct Suppressed: Codable, Equatable, Sendable {
        public var finding: Finding
        public var reason: String
        public var until: CalendarDay
        public var location: String
    }

    public struct Untracked: Codable, Equatable, Sendable, Comparable {
        public var kind: AuditSubject.Kind
        public var name: String
        public var release: String

        public init(kind: AuditSubject.Kind, name: String, release: String) {
            self.kind = kind
            self.name = name
            self.release = release
        }

        public static func < (a: Untracked, b: Untracked) -> Bool { (a.kind, a.name) < (b.kind, b.name) }
    }

    /// Open findings (fixed later, or open) at `threshold`'s urgency or above.
    public func failing(at threshold: Int) -> [Finding] { findings.filter { $0.kind != .undetermined && $0.severity >= threshold } }

    /// As text or Markdown (for the merge request's job).
    public func rendered(markdown: Bool) -> String {
        var lines: [String] = []
        let open = findings.filter { $0.kind != .undetermined }, undetermined = findings.filter { $0.kind == .undetermined }
        func heading(_ text: String) { lines += markdown ? ["", "### \(text)", ""] : ["", text] }
        lines.append(markdown ? "## imagec audit, \(date)" : "imagec audit, \(date)")
        lines.append("tracker: \(tracker) (sha256:\(trackerSHA256))")
        func table(_ findings: [Finding]) {
            let header = ["CVE", "source", "binaries", "installed", "fixed", "release", "urgency", "in"]
            let rows = findings.map { finding in
                [finding.cve + (finding.nodsa != nil ? " (no DSA)" : "") + (finding.expiredSuppression != nil ? " (suppression expired)" : ""),
                 finding.source, finding.binaries.joined(separator: ", "), finding.installedVersion, finding.fixedVersion ?? (finding.kind == .open ? "not yet" : "-"),
                 finding.release, finding.urgency, finding.subjects.map(\.text).joined(separator: "; ")]
            }
            if markdown {
                lines.append("| " + header.joined(separator: " | ") + " |")
                lines.append("|" + String(repeating: "---|", count: header.count))
                lines += rows.map { "| " + $0.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |" }
            } else {
                lines += rows.map { "  " + $0.joined(separator: "  ") }
            }
        }
        heading("Open (\(open.count))")
        if open.isEmpty { lines.append(markdown ? "None." : "  none") } else { table(open) }
        if !undetermined.isEmpty {
            heading("Undetermined by the tracker (\(undetermined.count))")
            table(undetermined)
        }
        if !suppressed.isEmpty {
            heading("Suppressed (\(suppressed.count))")
            lines += suppressed.map { (markdown ? "- " : "  ") + "\($0.finding.cve) \($0.finding.source) until \($0.until): \($0.reason) (\($0.location))" }
        }
        if !notTracked.isEmpty {
            heading("Not tracked: the tracker does not cover their release (\(notTracked.count))")
            lines += notTracked.map { (markdown ? "- " : "  ") + "\($0.kind.rawValue) \($0.name) (\($0.release))" }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
