import Audit
import ImagecCore
import Foundation
import ImageDSL
@testable import Packages
@testable import SwapLedger
import Testing

/// `imagec audit` on a fleet fixture: three hosts of the ledger on different images, one image
/// built but not deployed, against a tracker file in the real format.
struct AuditTests {
    static let tracker = """
        {
          "glibc": {
            "CVE-2026-0001": {"description": "heap overflow in the loader", "scope": "local",
              "releases": {"bookworm": {"status": "resolved", "repositories": {"bookworm": "2.36-9+deb12u9"}, "fixed_version": "2.36-9+deb12u10", "urgency": "high"}}},
            "CVE-2026-0002": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "2.36-9+deb12u8", "urgency": "medium"}}},
            "CVE-2026-0003": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "0", "urgency": "unimportant"}}}
          },
          "zlib": {
            "CVE-2026-0010": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "1:1.2.13.dfsg-1+b1", "urgency": "low"}}}
          },
          "openssl": {
            "CVE-2026-0020": {"releases": {"bookworm": {"status": "open", "urgency": "medium", "nodsa": "Minor issue", "nodsa_reason": "postponed"}}}
          },
          "systemd": {
            "CVE-2026-0030": {"releases": {"bookworm": {"status": "undetermined", "urgency": "not yet assigned"}}}
          },
          "sudo": {
            "CVE-2026-0040": {"releases": {"bullseye": {"status": "open", "urgency": "high"}, "trixie": {"status": "resolved", "fixed_version": "1.9.16-1", "urgency": "high"}}}
          },
          "unrelated": {"CVE-2026-0099": {"releases": {"bookworm": {"status": "open", "urgency": "high"}}}}
        }
        """

    static func package(_ name: String, _ version: String, source: String, _ sourceVersion: String) -> LockedPackage {
        LockedPackage(name: name, version: version, architecture: "amd64", size: 1, sha256: String(repeating: "0", count: 64),
                      path: "pool/main/\(name).deb", source: source, sourceVersion: sourceVersion)
    }

    /// A store entry of `host`'s image: its digest, its lock.
    static func image(_ hex: Character, host: String, release: String = "bookworm", glibc: String) throws -> (String, PackageLock.PackageSet) {
        var distribution = Distribution.bookworm
        distribution.release = release
        let set = PackageLock.PackageSet(systems: [host], distribution: distribution, architecture: .amd64,
                                         sources: "host", requested: [], sourceDateEpoch: 1, releases: nil, packages: [
            package("libc6", glibc, source: "glibc", glibc),
            package("libc-bin", glibc, source: "glibc", glibc),
            // A binNMU above the fixed version, from a source below it.
            package("zlib1g", "1:1.2.13.dfsg-1+b2", source: "zlib", "1:1.2.13.dfsg-1"),
            package("libssl3", "3.0.15-1~deb12u1", source: "openssl", "3.0.15-1~deb12u1"),
            package("systemd", "252.33-1~deb12u1", source: "systemd", "252.33-1~deb12u1"),
            package("sudo", "1.9.13p3-1+deb12u1", source: "sudo", "1.9.13p3-1+deb12u1"),
        ])
        return (String(repeating: String(hex), count: 64), set)
    }

    @Test func theFleetsOpenCVEsRowByRow() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-audit-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("store"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let images = [("node1", try Self.image("a", host: "node1", glibc: "2.36-9+deb12u9")),
                      ("node2", try Self.image("b", host: "node2", glibc: "2.36-9+deb12u10")),
                      ("node3", try Self.image("c", host: "node3", release: "forky", glibc: "2.40-3")),
                      // Built, not deployed: node1's next image.
                      ("node1", try Self.image("d", host: "node1", glibc: "2.36-9+deb12u10"))]
        for (host, (hex, set)) in images {
            let entry = folder.appendingPathComponent("store/\(hex)-\(host)")
            try FileManager.default.createDirectory(at: entry, withIntermediateDirectories: true)
            try JSONEncoder().encode(set).write(to: entry.appendingPathComponent("lock.json"))
        }
        // The ledger: each host runs its image (node1 its first: its second deploy failed and was rolled back).
        let ledger = try Ledger(path: folder.appendingPathComponent("ledger.sqlite"))
        func swap(_ host: String, _ digest: Character, previous: Character?, result: SwapResult) throws {
            let record = try ledger.begin(SwapRecord(
                kind: .deploy, host: host, target: Deployment(to: .local("\(folder.path)/pool"), disk: "\(host)-root", machine: .libvirt(host)),
                machine: "libvirt:qemu:///system \(host)", pool: "local:\(folder.path)/pool", checks: [], ssh: "127.0.0.1:1",
                incoming: "\(host)-root_candidate", outgoing: "\(host)-root_d1", digest: "sha256:" + String(repeating: String(digest), count: 64),
                previousDigest: previous.map { "sha256:" + String(repeating: String($0), count: 64) }, commit: "abc", forced: false))
            try ledger.finish(record.id!, result: result)
        }
        try swap("node1", "a", previous: nil, result: .healthy)
        try swap("node2", "b", previous: nil, result: .healthy)
        try swap("node3", "c", previous: nil, result: .healthy)
        try swap("node1", "d", previous: "a", result: .failed)
        try Self.tracker.write(to: folder.appendingPathComponent("tracker.json"), atomically: true, encoding: .utf8)
        try """
            # Reviewed on 2026-11-20 (the first line expired, the second, later, accepts it again).
            CVE-2026-0020 openssl 2026-10-31 first review
            CVE-2026-0020 openssl 2026-12-31 our hosts do not terminate TLS from outside the lab
            CVE-2026-0001 glibc 2026-11-30 waiting for the point release
            """.write(to: folder.appendingPathComponent("suppressions"), atomically: true, encoding: .utf8)

        let run = try DeployTests.imagec(["audit", "--tracker", "tracker.json", "--suppressions", "suppressions", "--date", "2026-12-07", "--json"], in: folder)
        #expect(run.status == 0, "\(run.output)")
        let report = try JSONDecoder().decode(AuditReport.self, from: Data(run.output.utf8))
        func digest(_ hex: Character) -> String { "sha256:" + String(repeating: String(hex), count: 64) }
        func image(_ hex: Character, _ host: String) -> AuditReport.SubjectReference {
            let name: String = String(repeating: String(hex), count: 64) + "-" + host
            return AuditReport.SubjectReference(kind: .image, name: name, digest: digest(hex))
        }
        func host(_ name: String, _ hex: Character) -> AuditReport.SubjectReference {
            AuditReport.SubjectReference(kind: .host, name: name, digest: digest(hex))
        }
        let everywhere = [host("node1", "a"), host("node2", "b"), image("a", "node1"), image("b", "node2"), image("d", "node1")]
        #expect(report.findings == [
            AuditReport.Finding(cve: "CVE-2026-0001", kind: .fixedLater, source: "glibc", installedVersion: "2.36-9+deb12u9", fixedVersion: "2.36-9+deb12u10",
                                release: "bookworm", urgency: "high", nodsa: nil, binaries: ["libc-bin", "libc6"], subjects: [host("node1", "a"), image("a", "node1")],
                                expiredSuppression: "suppressions:4: accepted until 2026-11-30 (waiting for the point release)"),
            AuditReport.Finding(cve: "CVE-2026-0010", kind: .fixedLater, source: "zlib", installedVersion: "1:1.2.13.dfsg-1", fixedVersion: "1:1.2.13.dfsg-1+b1",
                                release: "bookworm", urgency: "low", nodsa: nil, binaries: ["zlib1g"], subjects: everywhere),
            AuditReport.Finding(cve: "CVE-2026-0030", kind: .undetermined, source: "systemd", installedVersion: "252.33-1~deb12u1", fixedVersion: nil,
                                release: "bookworm", urgency: "not yet assigned", nodsa: nil, binaries: ["systemd"], subjects: everywhere),
        ])
        #expect(report.suppressed.map { "\($0.finding.cve) \($0.finding.source) \($0.finding.kind.rawValue) \($0.finding.nodsa ?? "-") \($0.location)" }
                == ["CVE-2026-0020 openssl open Minor issue suppressions:3"])
        #expect(report.notTracked == [.init(kind: .host, name: "node3", release: "forky"),
                                      .init(kind: .image, name: String(repeating: "c", count: 64) + "-node3", release: "forky")])
        #expect(report.trackerSHA256 == CanonicalJSONSHA.of(Self.tracker) && report.tracker == "tracker.json")

        // The same as text and Markdown; --fail-on (the glibc row suppressed before its date, then not).
        let text = try DeployTests.imagec(["audit", "--tracker", "tracker.json", "--date", "2026-12-07", "--fail-on", "high"], in: folder)
        #expect(text.status == 1 && text.output.contains("CVE-2026-0020 (no DSA)  openssl  libssl3  3.0.15-1~deb12u1  not yet  bookworm  medium"), "\(text.output)")
        #expect(text.output.contains("Not tracked: the tracker does not cover their release (2)"), "\(text.output)")
        let markdown = try DeployTests.imagec(["audit", "--tracker", "tracker.json", "--suppressions", "suppressions", "--date", "2026-11-25",
                                               "--format", "markdown", "--fail-on", "high"], in: folder)
        #expect(markdown.status == 0 && markdown.output.contains("| CVE-2026-0010 | zlib | zlib1g | 1:1.2.13.dfsg-1 | 1:1.2.13.dfsg-1+b1 | bookworm | low |"),
                "\(markdown.output)")
        // Bad input: named, exit status 2.
        try "".write(to: folder.appendingPathComponent("empty.json"), atomically: true, encoding: .utf8)
        let empty = try DeployTests.imagec(["audit", "--tracker", "empty.json"], in: folder)
        #expect(empty.status == 2 && empty.output.contains("empty.json is empty: give the Security Tracker's JSON"), "\(empty.output)")
        try "{\"glibc\": {\"CVE-1\": [".write(to: folder.appendingPathComponent("cut.json"), atomically: true, encoding: .utf8)
        let cut = try DeployTests.imagec(["audit", "--tracker", "cut.json"], in: folder)
        #expect(cut.status == 2 && cut.output.contains("cut.json is not the Security Tracker's JSON: an object never ends at byte"), "\(cut.output)")
        // A tracker URL that does not answer is the environment's failure, not the command line's.
        let unreachable = try DeployTests.imagec(["audit", "--tracker", "http://127.0.0.1:9/tracker.json"], in: folder)
        #expect(unreachable.status == 3 && unreachable.output.contains("the tracker http://127.0.0.1:9/tracker.json does not answer"), "\(unreachable.output)")
        try "CVE-2026-0020 openssl someday maybe\n".write(to: folder.appendingPathComponent("bad-suppressions"), atomically: true, encoding: .utf8)
        let badSuppression = try DeployTests.imagec(["audit", "--tracker", "tracker.json", "--suppressions", "bad-suppressions"], in: folder)
        #expect(badSuppression.status == 2 && badSuppression.output.contains("bad-suppressions:1: expected `CVE-YYYY-NNNN SOURCE-PACKAGE YYYY-MM-DD"), "\(badSuppression.output)")
    }
}

enum CanonicalJSONSHA {
    static func of(_ text: String) -> String { CanonicalJSON.sha256(Data(text.utf8)) }
}
