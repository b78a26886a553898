import ArgumentParser
import DefinitionEvaluation
import Foundation
import ImageDSL
import Packages

/// `imagec lock`: pin every package of a definition's systems.
struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Resolve and pin the full package set of a definition's systems.",
        discussion: """
            Resolves every package each system installs (dependencies included, with exact \
            versions and SHA-256) against the system's apt sources, or the build host's when it \
            declares none, and writes the lock file beside the definition (systems/X.lock for \
            systems/X.swift). Commit it: builds install exactly what it says. With --update, \
            every locked package the sources still serve keeps its version: only what left the \
            archive, what the definition added or dropped, and what their dependencies force \
            move, each printed as `name old → new`.
            """)

    @Argument(help: "The system definition file, such as systems/bigmem2.swift.")
    var file: String

    @Flag(name: .long, help: "Keep every locked version the sources still serve; move only what must move.")
    var update = false

    @OptionGroup var output: ProgressOptions

    func run() throws {
        let evaluation = try Evaluator.standard().evaluate(file)
        let lockFile = PackageLock.url(for: evaluation.file)
        let previous = update ? try PackageLock.read(from: lockFile) : nil
        let progress = output.context.progress
        if update, previous == nil { progress("no lock file yet: locking every package afresh") }
        // The locks beside it: a layer they hold unchanged keeps its date, so the systems share it.
        let folder = lockFile.deletingLastPathComponent()
        let beside = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
            .filter { $0.hasSuffix(".lock") }.compactMap { try? PackageLock.read(from: folder.appendingPathComponent($0)) }
        let (lock, url, changes) = try Locker().lock(evaluation, keeping: previous, alongside: beside, progress: progress)
        for (set, change) in zip(lock.sets, changes) {
            var line = "\(set.systems.joined(separator: ", ")): \(set.packages.count) packages "
                + "(\(set.requested.count) requested), \(set.distribution) \(set.architecture.rawValue)"
            if previous != nil { line += change.packages.isEmpty ? ", unchanged" : ", \(change.packages.count) changed:" }
            Swift.print(line)
            if previous != nil { change.packages.forEach { Swift.print("  \($0.mark) \($0.text)") } }
        }
        Swift.print(Report.relative(url.path))
    }
}
