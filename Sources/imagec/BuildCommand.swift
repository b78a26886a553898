import ArgumentParser
import Foundation
import ImagecCore
import ImageDSL
import SharedStore

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

    @OptionGroup var output: ProgressOptions

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    @Flag(name: .long, help: "Build again from scratch in a temporary store and check that every byte is the same.")
    var check = false

    @Flag(name: .long, help: "Push the image, its package layer, root base and .debs to the system's SharedStore, signed with this host's store key.")
    var pushStore = false

    @Option(name: .long, help: "Image format: raw (the store's copy) or qcow2.")
    var format: ImageFormat = .raw

    enum ImageFormat: String, ExpressibleByArgument, CaseIterable { case raw, qcow2 }

    func run() throws {
        let started = Date()
        let progress = output.context.progress
        let definition = try output.context.definition(file, system: system)
        let builder = definition.builder, lock = definition.lock, lockFile = definition.lockFile
        let key = pushStore ? try StoreSigningKey() : nil
        var results: [[String: JSONValue]] = []
        for system in definition.systems {
            let result = try definition.build(system, progress: progress)
            if check {
                progress("checking: building \(system.model.hostName) again from scratch")
                if let difference = try builder.check(result, system: system, lock: lock, lockFile: lockFile, progress: progress) {
                    throw BuildFailure("\(system.model.hostName) is not reproducible: \(difference)")
                }
                progress("reproducible: a second build from scratch gave the same bytes")
            }
            if let key { try definition.pushToSharedStore(result, of: system, key: key, progress: progress) }
            let output = format == .qcow2 ? try builder.qcow2(of: result, hostName: system.model.hostName) : result.image
            let size = (try? FileManager.default.attributesOfItem(atPath: output.path)[.size] as? NSNumber)?.int64Value ?? 0
            results.append([
                "hostName": .string(system.model.hostName), "digest": .string(result.digest.description),
                "path": .string(output.path), "size": .integer(size),
                "seconds": .number((Date().timeIntervalSince(started) * 10).rounded() / 10),
                "cacheHits": .object(["image": .bool(result.reused), "packageLayer": .bool(result.packageLayerReused),
                                        "rootBase": .bool(result.rootBaseReused), "substituted": .bool(result.substituted)]),
            ])
            if !json { Swift.print(format == .raw ? result.entry.folder.path : output.path) }
        }
        if json {
            FileHandle.standardOutput.write(try CanonicalJSON.encode(value: results.count == 1 ? JSONValue.object(results[0]) : .array(results.map(JSONValue.object))))
        }
    }
}
