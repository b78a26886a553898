import ArgumentParser
import DefinitionEvaluation
import DefinitionReview
import Foundation
import ImagecCore

/// `imagec diff`: what really changes in each system between two definition files or two
/// revisions of the definitions.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what changes in each system between two files or two git revisions.",
        discussion: """
            imagec diff A.swift B.swift compares two definition files; imagec diff REV1 [REV2] \
            [-- PATH…] compares the systems of two revisions of the repository holding systems/ \
            and templates/ (REV2 defaults to the work tree, diffed as it is, uncommitted changes \
            included). Each side is evaluated (cached) and, per system, the canonical models are \
            compared: packages and their locked versions, services and their options, users, \
            groups, files (with a unified diff), network, kernel, disk, mounts; with the old and \
            new image digests and where each change was declared. A side that does not evaluate \
            is reported with its errors; the other systems are still compared. Exit status 0 \
            whether or not systems differ, 1 when a side does not evaluate.
            """)

    @Argument(help: "A system file or a git revision.")
    var first: String

    @Argument(help: "A second system file or git revision (default: the work tree).")
    var second: String?

    @Argument(parsing: .postTerminator, help: "System files (or systems/) to limit a review of revisions to.")
    var paths: [String] = []

    @Option(name: .long, help: "text (colored on a terminal) or markdown (a merge request comment).")
    var format: String = "text"

    @Flag(name: .long, help: "Print the review as JSON.")
    var json = false

    @Flag(name: .long, help: "Evaluate even when a cached result exists.")
    var noCache = false

    func validate() throws {
        guard ["text", "markdown"].contains(format) else { throw ValidationError("--format is text or markdown, not '\(format)'") }
    }

    func run() throws {
        let review = try ReviewCommand.review([first] + (second.map { [$0] } ?? []), paths: paths, noCache: noCache)
        if json {
            FileHandle.standardOutput.write(try CanonicalJSON.encode(value: review))
        } else {
            let report = ReviewReport(review: review, color: format == "text" && isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)
            FileHandle.standardOutput.write(Data((format == "markdown" ? report.markdown() : report.text()).utf8))
        }
        if !review.failures.isEmpty { throw DefinitionsInvalid() }
    }
}

/// What `imagec diff` and `imagec affected` share.
enum ReviewCommand {
    /// A side did not evaluate: reported in the output already; exit status 1.
    static func review(_ sides: [String], paths: [String], noCache: Bool) throws -> Review {
        let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let loaded = try ReviewSides(sides, paths: paths, directory: directory, evaluator: try Evaluator.standard(useCache: !noCache))
        let review = try Review(from: loaded.old, to: loaded.new, newIsDirty: loaded.newIsDirty)
        report(review.failures)
        return review
    }

    /// Files that did not evaluate, with their side, in the compiler's style.
    static func report(_ failures: [Review.Failure]) {
        for failure in failures {
            Report.error("\(failure.side): \(failure.file) does not evaluate")
            for error in failure.errors { FileHandle.standardError.write(Data("\(failure.side): \(error)\n".utf8)) }
        }
    }
}
