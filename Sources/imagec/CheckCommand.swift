import ArgumentParser
import DefinitionEvaluation
import Foundation
import ImagecCore
import ImageDSL

/// `imagec check`: every definition of some paths evaluated, and what must hold across all
/// their systems, for CI.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check every definition, and the fleet they declare together.",
        discussion: """
            Evaluates each definition file (folders are searched for .swift files, their templates \
            folders excepted) and reports every error at its line, then what must hold across all \
            their systems: no two with the same host name, the same static address or the same \
            deployment target (pool disk or machine), each clash naming both files and lines. \
            Exits with 1 when anything is wrong.
            """)

    @Argument(help: "Definition files and folders (default: systems).")
    var paths: [String] = ["systems"]

    @Flag(name: .long, help: "Print the systems found and the problems as JSON.")
    var json = false

    func run() throws {
        let result = try FleetCheck(evaluator: try Evaluator.standard()).run(paths)
        result.failures.forEach(Report.print)
        result.diagnostics.forEach(Report.print)
        let errors = result.diagnostics.filter { $0.severity == .error }.count + result.failures.count
        if json {
            let summary = Summary(
                files: result.files, systems: result.systems.map { .init(host: $0.model.hostName, file: $0.model.location(of: "system")?.file, digest: $0.digest.description) },
                errors: errors, diagnostics: result.diagnostics + result.failures.flatMap(\.diagnostics))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            FileHandle.standardOutput.write(try encoder.encode(summary) + Data("\n".utf8))
        } else {
            let systems = result.systems.count, files = result.files.count
            let counts = "\(systems) system\(systems == 1 ? "" : "s") in \(files) file\(files == 1 ? "" : "s")"
            Swift.print(errors == 0 ? "\(counts): no problem found" : "\(counts): \(errors) error\(errors == 1 ? "" : "s")")
        }
        if result.hasErrors { throw DefinitionsInvalid() }
    }

    struct Summary: Encodable {
        struct System: Encodable {
            var host: String
            var file: String?
            var digest: String
        }

        var files: [String]
        var systems: [System]
        var errors: Int
        var diagnostics: [Diagnostic]
    }
}
