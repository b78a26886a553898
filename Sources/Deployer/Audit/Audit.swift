import Foundation
import ImageDSL
import Packages

/// Which CVEs the fleet carries: every subject's source packages matched against the tracker,
/// in Debian's version order, the source's version compared with the fixed one (a binNMU
/// `1.2-3+b1` is the source `1.2-3`).
public struct Audit: Sendable {
    public var tracker: SecurityTracker
    public var suppressions: [Suppression]
    public var today: CalendarDay

    public init(tracker: SecurityTracker, suppressions: [Suppression], today: CalendarDay) {
        self.tracker = tracker
        self.suppressions = suppressions
        self.today = today
    }

    /// The sources an audit of `subjects` needs from the tracker.
    public static func sources(of subjects: [AuditSubject]) -> Set<String> {
        Set(subjects.flatMap { $0.packages.map { $0.source ?? $0.name } })
    }

    public func run(_ subjects: [AuditSubject], trackerName: String) -> AuditReport {
        struct Key: Hashable { var cve, source, version, release: String }
        var findings: [Key: AuditReport.Finding] = [:]
        var notTracked: [AuditReport.Untracked] = []
        // Subjects with the same packages (the hosts running an image, the image itself) are matched once.
        let groups = Dictionary(grouping: subjects) { subject in
            subject.release + "\n" + subject.packages.map { "\($0.name) \($0.source ?? $0.name) \($0.sourceVersion ?? $0.version)" }.sorted().joined(separator: "\n")
        }
        for members in groups.values {
            let subject = members[0]
            let references = members.map { AuditReport.SubjectReference(kind: $0.kind, name: $0.name, digest: $0.digest) }
            // A release the tracker says nothing of, for any of these sources, is not tracked: never "safe".
            let covered = subject.packages.contains { package in
                tracker.sources[package.source ?? package.name]?.values.contains { $0[subject.release] != nil } == true
            }
            if !covered {
                notTracked += members.map { AuditReport.Untracked(kind: $0.kind, name: $0.name, release: $0.release) }
                continue
            }
            let bySource = Dictionary(grouping: subject.packages) { "\($0.source ?? $0.name) \($0.sourceVersion ?? $0.version)" }
            for (_, packages) in bySource {
                let source = packages[0].source ?? packages[0].name, version = packages[0].sourceVersion ?? packages[0].version
                guard let cves = tracker.sources[source] else { continue }
                let installed = DebianVersion(version)
                for (cve, releases) in cves {
                    guard let status = releases[subject.release] else { continue }
                    let kind: AuditReport.Finding.Kind
                    switch status.status {
                    case "open": kind = .open
                    case "undetermined": kind = .undetermined
                    case "resolved":
                        guard let fixed = status.fixedVersion, fixed != "0", let installed,
                              let fixedVersion = DebianVersion(fixed), installed < fixedVersion else { continue }
                        kind = .fixedLater
                    default: continue
                    }
                    let key = Key(cve: cve, source: source, version: version, release: subject.release)
                    var finding = findings[key] ?? AuditReport.Finding(
                        cve: cve, kind: kind, source: source, installedVersion: version, fixedVersion: kind == .fixedLater ? status.fixedVersion : nil,
                        release: subject.release, urgency: status.urgency, nodsa: status.nodsa, binaries: [], subjects: [])
                    finding.binaries = Array(Set(finding.binaries + packages.map(\.name))).sorted()
                    finding.subjects += references
                    findings[key] = finding
                }
            }
        }
        var report = AuditReport(tracker: trackerName, trackerSHA256: tracker.sha256, date: today, findings: [], suppressed: [], notTracked: notTracked.sorted())
        for var finding in findings.values {
            finding.subjects = Array(Set(finding.subjects)).sorted()
            // The suppression that lasts longest: one expired line does not hide a later one.
            if let suppression = suppressions.filter({ $0.cve == finding.cve && $0.package == finding.source }).max(by: { $0.until < $1.until }) {
                if today <= suppression.until {
                    report.suppressed.append(AuditReport.Suppressed(finding: finding, reason: suppression.reason, until: suppression.until, location: suppression.location))
                    continue
                }
                finding.expiredSuppression = "\(suppression.location): accepted until \(suppression.until) (\(suppression.reason))"
            }
            report.findings.append(finding)
        }
        report.findings.sort()
        report.suppressed.sort { $0.finding < $1.finding }
        return report
    }
}
