import ArgumentParser
import Audit
import Foundation
import ImageBuild
import ImagecCore
import ImageDSL
import Packages
import SwapLedger

/// `imagec audit`: which systems, images and hosts carry an open CVE.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Report the open CVEs of the fleet: its systems, the images in the store, the hosts in the ledger.",
        discussion: """
            Reads the Debian Security Tracker's JSON (--tracker: a file, offline, or a URL) and matches \
            it by source package: a system of the definitions given (its lock), each image in the store \
            ($IMAGEC_STORE), each host of the ledger ($IMAGEC_LEDGER: the image it runs now). A CVE fixed \
            in a later version than the source's installed one, or open, is reported with its binaries, \
            versions, urgency and where it is; undetermined ones apart; a release the tracker does not \
            cover is "not tracked". Suppressions (--suppressions FILE: `CVE SOURCE UNTIL REASON` a line) \
            hide a reviewed finding until their date. Exit status 1 with findings at --fail-on's urgency \
            or above, 2 for bad input.
            """)

    enum Format: String, ExpressibleByArgument { case text, markdown }
    enum Urgency: String, ExpressibleByArgument {
        case low, medium, high
        var rank: Int { ["low": 1, "medium": 2, "high": 3][rawValue]! }
    }

    @Argument(help: "System definition files whose locks to audit (optional).")
    var files: [String] = []

    @Option(name: .long, help: ArgumentHelp("The Security Tracker's JSON: a file, or an http(s) URL.", valueName: "file-or-url"))
    var tracker: String

    @Option(name: .long, help: ArgumentHelp("Reviewed findings accepted until a date.", valueName: "file"))
    var suppressions: String?

    @Option(name: .long, help: "text or markdown.")
    var format = Format.text

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    @Option(name: .long, help: "Exit with status 1 when a finding has this urgency or above (low, medium, high).")
    var failOn: Urgency?

    @Option(name: .long, help: ArgumentHelp("The day suppressions are checked against (default: today, UTC).", valueName: "YYYY-MM-DD"))
    var date: String?

    @OptionGroup var output: ProgressOptions

    func validate() throws {
        if let date, CalendarDay(date) == nil { throw ValidationError("--date must be a day such as 2026-12-07, not '\(date)'") }
    }

    func run() throws {
        let context = output.context
        var subjects: [AuditSubject] = []
        for file in files {
            let definition = try context.definition(file, fetchingPackages: false)
            for system in definition.systems {
                let set = try definition.lock.set(for: system.model, lockFile: definition.lockFile)
                subjects.append(AuditSubject(kind: .system, name: system.model.hostName, digest: nil, release: set.distribution.release, packages: set.packages))
            }
        }
        // The images in the store, by their entries' locks.
        let store = Store(root: Store.defaultRoot)
        var images: [String: AuditSubject] = [:]
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: store.root.path)) ?? []).sorted() {
            guard name.prefix(64).allSatisfy(\.isHexDigit), name.count > 65, name.dropFirst(64).first == "-",
                  let data = FileManager.default.contents(atPath: store.root.appendingPathComponent("\(name)/lock.json").path),
                  let set = try? JSONDecoder().decode(PackageLock.PackageSet.self, from: data) else { continue }
            let subject = AuditSubject(kind: .image, name: name, digest: "sha256:" + name.prefix(64), release: set.distribution.release, packages: set.packages)
            images[String(name.prefix(64))] = subject
            subjects.append(subject)
        }
        // The hosts of the ledger: the image each runs now.
        if FileManager.default.fileExists(atPath: Ledger.defaultPath.path) {
            let swaps = try Ledger().swaps()
            for host in Set(swaps.map(\.host)).sorted() {
                guard let digest = Self.running(swaps.filter { $0.host == host }) else {
                    context.progress("warning: \(host) has no finished deploy in the ledger: what it runs is not known, it is not audited")
                    continue
                }
                guard let image = images[String(digest.dropFirst(7))] else {
                    context.progress("warning: \(host) runs \(digest.prefix(19)), which is not in the store: its packages are not known")
                    continue
                }
                subjects.append(AuditSubject(kind: .host, name: host, digest: digest, release: image.release, packages: image.packages))
            }
        }
        let (data, name) = try Self.read(tracker)
        let tracker = try SecurityTracker(data: data, name: name, wanted: Audit.sources(of: subjects))
        let today = date.flatMap(CalendarDay.init) ?? Self.today()
        let report = Audit(tracker: tracker, suppressions: try suppressions.map(Suppression.read) ?? [], today: today).run(subjects, trackerName: name)
        if json {
            // Sorted keys and lists, compact: a fleet's report can be megabytes.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(report) + Data("\n".utf8))
        } else {
            Swift.print(report.rendered(markdown: format == .markdown), terminator: "")
        }
        if let failOn, !report.failing(at: failOn.rank).isEmpty { throw FindingsAtOrAbove() }
    }

    /// The image a host runs now, from its swaps (newest first): a healthy swap's, else what a
    /// failed or undone one left.
    static func running(_ swaps: [SwapRecord]) -> String? {
        for swap in swaps {
            switch swap.result {
            case .healthy: return swap.digest
            case .failed, .reverted, .abandoned: if let previous = swap.previousDigest { return previous }
            case .running, .error: continue
            }
        }
        return nil
    }

    static func read(_ location: String) throws -> (Data, String) {
        if location.hasPrefix("http://") || location.hasPrefix("https://") {
            let response: Curl.Response
            do {
                response = try Curl(url: location, timeout: 300).perform()
            } catch let error as CurlError {
                throw AuditError("the tracker \(location) does not answer: \(error.reason)", kind: .environment)
            }
            guard response.status == 200 else { throw AuditError("the tracker \(location) answered HTTP \(response.status)", kind: .environment) }
            return (response.body, location)
        }
        guard let data = FileManager.default.contents(atPath: location) else { throw AuditError("cannot read the tracker file \(location)") }
        return (data, location)
    }

    static func today() -> CalendarDay { CalendarDay(daysSince1970: Int(Date().timeIntervalSince1970) / 86400) }
}

/// Findings at or above --fail-on's urgency (exit status 1, like a CI linter).
struct FindingsAtOrAbove: CategorizedError {
    var failureKind: FailureKind { .invalidDefinition }
}
