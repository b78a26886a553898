import ArgumentParser
import DefinitionEvaluation
import DefinitionReview
import Foundation
import ImagecCore
import Packages

/// `imagec affected`: which systems a change touches, or which carry a package.
struct AffectedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "affected",
        abstract: "List the systems whose image changes between two revisions, or that carry a package.",
        discussion: """
            imagec affected REV1 [REV2] lists the systems whose image digest differs between two \
            revisions (REV2 defaults to the work tree), with why: the files that declared what \
            changed and the parts they changed, or the lock. imagec affected --package NAME [REV] \
            lists the systems whose lock holds NAME, with its version, in REV (default: the work \
            tree); --below VERSION keeps those older than VERSION (Debian version order).
            """)

    @Argument(help: "The first revision (with --package, the only one; default: the work tree).")
    var first: String?

    @Argument(help: "The second revision (default: the work tree).")
    var second: String?

    private var revisions: [String] { [first, second].compactMap { $0 } }

    @Argument(parsing: .postTerminator, help: "System files (or systems/) to limit the review to.")
    var paths: [String] = []

    @Option(name: .long, help: "List the systems whose lock holds this package.")
    var package: String?

    @Option(name: .long, help: "With --package: only versions older than this one.")
    var below: String?

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    @Flag(name: .long, help: "Evaluate even when a cached result exists.")
    var noCache = false

    func validate() throws {
        if package == nil {
            if below != nil { throw ValidationError("--below goes with --package") }
            guard (1...2).contains(revisions.count) else { throw ValidationError("give one or two revisions (REV1 [REV2])") }
        } else if revisions.count > 1 {
            throw ValidationError("with --package, give at most one revision")
        }
        if let package, package.wholeMatch(of: /[a-z0-9][a-z0-9+.\-]+/) == nil {
            throw ValidationError("--package: '\(package)' is not a Debian package name (lowercase letters, digits, '+', '-' and '.')"
                + (package.lowercased().wholeMatch(of: /[a-z0-9][a-z0-9+.\-]+/) != nil ? ": did you mean '\(package.lowercased())'?" : ""))
        }
        if let below, DebianVersion(below) == nil { throw ValidationError("--below: '\(below)' is not a Debian version") }
    }

    struct Carrier: Codable {
        var hostName: String
        var file: String
        var package: String
        var version: String
    }

    struct Affected: Codable {
        var hostName: String
        var file: String
        var status: String
        var oldDigest: String?
        var newDigest: String?
        var reasons: [String]
    }

    func run() throws {
        if let package { return try carriers(of: package) }
        let review = try ReviewCommand.review(revisions, paths: paths, noCache: noCache)
        let affected = review.affected.map { system in
            Affected(hostName: system.hostName, file: system.newFile ?? system.oldFile ?? "", status: system.status.rawValue,
                     oldDigest: system.oldDigest, newDigest: system.newDigest, reasons: system.reasons)
        }
        if json {
            FileHandle.standardOutput.write(try CanonicalJSON.encode(value: affected))
        } else {
            let width = (affected.map(\.hostName.count).max() ?? 0) + 2
            for system in affected {
                print(system.hostName.padding(toLength: width, withPad: " ", startingAt: 0) + system.reasons.joined(separator: "; "))
            }
            let total = review.systems.count
            FileHandle.standardError.write(Data("\(affected.count) of \(total) system\(total == 1 ? "" : "s") affected (\(review.old) → \(review.new))\n".utf8))
        }
        if !review.failures.isEmpty { throw DefinitionsInvalid() }
    }

    private func carriers(of package: String) throws -> Void {
        let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let snapshot = try ReviewSides.snapshot(at: revisions.first, directory: directory, evaluator: try Evaluator.standard(useCache: !noCache))
        ReviewCommand.report(snapshot.failures.map { Review.Failure(side: snapshot.label, file: $0.file, errors: $0.errors) })
        let limit = below.flatMap(DebianVersion.init)
        let carriers = snapshot.systems.values.sorted { $0.hostName < $1.hostName }.compactMap { system -> Carrier? in
            guard let version = system.packages[package] else { return nil }
            if let limit, let parsed = DebianVersion(version), !(parsed < limit) { return nil }
            return Carrier(hostName: system.hostName, file: system.file, package: package, version: version)
        }
        if json {
            FileHandle.standardOutput.write(try CanonicalJSON.encode(value: carriers))
        } else {
            let width = (carriers.map(\.hostName.count).max() ?? 0) + 2
            for carrier in carriers { print(carrier.hostName.padding(toLength: width, withPad: " ", startingAt: 0) + "\(package) \(carrier.version)") }
            let unlocked = snapshot.systems.values.filter { $0.packages.isEmpty }.map(\.hostName).sorted()
            if !unlocked.isEmpty {
                FileHandle.standardError.write(Data("note: not locked, so not searched: \(unlocked.joined(separator: ", "))\n".utf8))
            }
            FileHandle.standardError.write(Data("\(carriers.count) of \(snapshot.systems.count) systems carry \(package)\(below.map { " older than \($0)" } ?? "") in \(snapshot.label)\n".utf8))
        }
        if !snapshot.failures.isEmpty { throw DefinitionsInvalid() }
    }
}
