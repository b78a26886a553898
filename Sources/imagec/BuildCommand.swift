import ArgumentParser
import Builder
import Foundation
import ImageDSL

/// `imagec build`: build the disk images of a definition's systems into the store.
struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build the disk image of each system of a definition into the store.",
        discussion: """
            Uses the lock file beside the definition (written first if missing), fetches the \
            locked packages into the store, reuses the package layer when only configuration \
            changed, and writes a bootable raw GPT image (BIOS and UEFI) to a store entry named \
            by the build's digest. The last line printed is the store path. The store is \
            /var/lib/imagec/store, or $IMAGEC_STORE.
            """)

    @Argument(help: "The system definition file, such as systems/bigmem2.swift.")
    var file: String

    @Option(name: .long, help: "Build only the system with this host name.")
    var system: String?

    @Flag(name: .shortAndLong, help: "Print no progress.")
    var quiet = false

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    func run() throws {
        let started = Date()
        let progress: @Sendable (String) -> Void = { [quiet] message in
            if !quiet { FileHandle.standardError.write(Data("\(message)\n".utf8)) }
        }
        let evaluation = try Evaluator.standard().evaluate(file)
        evaluation.diagnostics.forEach(Report.print)
        var systems = evaluation.systems
        if let system {
            guard let match = evaluation.system(named: system) else {
                throw UsageError("\(file) declares no system named '\(system)'")
            }
            systems = [match]
        }
        let lockFile = PackageLock.url(for: evaluation.file)
        var lock = try PackageLock.read(from: lockFile)
        if lock == nil {
            progress("no lock file: writing \(Report.relative(lockFile.path)) (commit it)")
            lock = try Locker().lock(evaluation, progress: progress).0
        }
        let builder = ImageBuilder(store: Store(root: Store.defaultRoot))
        var results: [[String: JSONValue]] = []
        for system in systems {
            let result = try builder.build(system, lock: lock!, lockFile: lockFile, progress: progress)
            let size = (try? FileManager.default.attributesOfItem(atPath: result.image.path)[.size] as? NSNumber)?.int64Value ?? 0
            results.append([
                "hostName": .string(system.model.hostName), "digest": .string("sha256:" + result.digest),
                "path": .string(result.entry.path), "size": .integer(size),
                "seconds": .number((Date().timeIntervalSince(started) * 10).rounded() / 10),
                "cacheHits": .object(["image": .bool(result.reused), "packageLayer": .bool(result.packageLayerReused)]),
            ])
            if !json { Swift.print(result.entry.path) }
        }
        if json {
            FileHandle.standardOutput.write(try CanonicalJSON.encode(value: results.count == 1 ? JSONValue.object(results[0]) : .array(results.map(JSONValue.object))))
        }
    }
}
