import ArgumentParser
import Builder
import Foundation
import ImageDSL

/// `imagec lock`: pin every package of a definition's systems.
struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Resolve and pin the full package set of a definition's systems.",
        discussion: """
            Resolves every package each system installs (dependencies included, with exact \
            versions and SHA-256) against the system's apt sources, or the build host's when it \
            declares none, and writes the lock file beside the definition (systems/X.lock for \
            systems/X.swift). Commit it: builds install exactly what it says.
            """)

    @Argument(help: "The system definition file, such as systems/bigmem2.swift.")
    var file: String

    @Flag(name: .shortAndLong, help: "Print no progress.")
    var quiet = false

    func run() throws {
        let evaluation = try Evaluator.standard().evaluate(file)
        let (lock, url) = try Locker().lock(evaluation) { message in
            if !quiet { FileHandle.standardError.write(Data("\(message)\n".utf8)) }
        }
        for set in lock.sets {
            Swift.print("\(set.systems.joined(separator: ", ")): \(set.packages.count) packages "
                + "(\(set.requested.count) requested), \(set.distribution) \(set.architecture.rawValue)")
        }
        Swift.print(Report.relative(url.path))
    }
}
