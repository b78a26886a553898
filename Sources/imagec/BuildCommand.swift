import ArgumentParser
import DefinitionEvaluation
import Foundation
import ImageBuild
import ImagecCore
import ImageDSL
import SharedStore

/// `imagec build`: build the disk images of definitions' systems into the store.
struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build the disk image of each system of one or more definitions into the store.",
        discussion: """
            Uses the lock file beside each definition (written first if missing), fetches the \
            locked packages into the store, reuses the package layer when only configuration \
            changed, and writes a bootable raw GPT image (BIOS and UEFI) to a store entry named \
            by the build's digest, printing its path (one line per system, in the order of the \
            files and of their systems). Several systems are built --jobs at a time; those that \
            share a package layer or a root base wait for the one that makes it, so it is made \
            once. The store is /var/lib/imagec/store, or $IMAGEC_STORE.
            """)

    @Argument(help: "System definition files, such as systems/bigmem2.swift or systems/*.swift.")
    var files: [String]

    @Option(name: .long, help: "Build only the system with this host name (with one file).")
    var system: String?

    @Option(name: .long, help: "How many systems are built at once.")
    var jobs = 2

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

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one definition file") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be 1 or more") }
        guard system == nil || files.count == 1 else { throw ValidationError("--system goes with a single definition file") }
    }

    func run() throws {
        let started = Date()
        let progress = output.context.progress
        let definitions = try files.map { try output.context.definition($0, system: system) }
        let key = pushStore ? try StoreSigningKey() : nil
        let work = definitions.flatMap { definition in definition.systems.map { (definition, $0) } }
        // Several at once: each line says which system it is about.
        let shared = work.count > 1
        let results = try BoundedWork.map(work, jobs: jobs) { definition, system in
            let progress = shared ? progress.about(system.model.hostName) : progress
            do {
                return try build(system, of: definition, key: key, started: started, progress: progress)
            } catch {
                // The error itself is printed once the builds under way have ended: say now whose it is.
                if shared { progress("failed; no other build starts, and the error follows once those under way end") }
                throw error
            }
        }
        if json {
            let objects = results.map { JSONValue.object($0.json) }
            FileHandle.standardOutput.write(try CanonicalJSON.encode(value: objects.count == 1 ? objects[0] : JSONValue.array(objects)))
        } else {
            results.forEach { Swift.print($0.path) }
        }
    }

    /// Builds one system (checked, pushed, converted as asked): its line of output and its JSON.
    private func build(_ system: Evaluation.System, of definition: DefinitionBuild, key: StoreSigningKey?, started: Date,
                       progress: ProgressReporter) throws -> (path: String, json: [String: JSONValue]) {
        let builder = definition.builder
        let result = try definition.build(system, progress: progress)
        if check {
            progress("checking: building \(system.model.hostName) again from scratch")
            if let difference = try builder.check(result, system: system, lock: definition.lock, lockFile: definition.lockFile, progress: progress) {
                throw BuildFailure("\(system.model.hostName) is not reproducible: \(difference)")
            }
            progress("reproducible: a second build from scratch gave the same bytes")
        }
        if let key { try definition.pushToSharedStore(result, of: system, key: key, progress: progress) }
        let output = format == .qcow2 ? try builder.qcow2(of: result, hostName: system.model.hostName) : result.image
        let size = (try? FileManager.default.attributesOfItem(atPath: output.path)[.size] as? NSNumber)?.int64Value ?? 0
        return (format == .raw ? result.entry.folder.path : output.path, [
            "hostName": .string(system.model.hostName), "digest": .string(result.digest.description),
            "path": .string(output.path), "size": .integer(size),
            "seconds": .number((Date().timeIntervalSince(started) * 10).rounded() / 10),
            "cacheHits": .object(["image": .bool(result.reused), "packageLayer": .bool(result.packageLayerReused),
                                    "rootBase": .bool(result.rootBaseReused), "substituted": .bool(result.substituted)]),
            // Each package layer, bottom to top, and whether it was a hit (none when the image was).
            "layers": .array(result.layers.map { layer in
                .object(["stage": .string(layer.stage), "entry": .string(layer.name), "hit": .bool(layer.reused)])
            }),
        ])
    }
}
