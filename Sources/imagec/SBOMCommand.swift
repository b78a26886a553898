import ArgumentParser
import Foundation
import ImageBuild
import ImagecCore
import Packages
import SBOM

/// `imagec sbom`: a system's image's SBOM, SPDX or CycloneDX.
struct SBOMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sbom",
        abstract: "Print the SBOM of a system's image: SPDX 2.3 or CycloneDX 1.6 JSON.",
        discussion: """
            Builds the image if needed (the build writes both SBOMs into its store entry) and prints \
            one: every locked .deb with its purl, SHA-256, supplier, source package and declared \
            licence, the dependencies between them, the image as the described operating system with \
            its digest. The same bytes on every run and machine: no clock (the time is the lock's), no \
            random identifier (they derive from the image's digest), every list sorted.
            """)

    enum Format: String, ExpressibleByArgument { case spdx, cyclonedx }

    @Argument(help: "The system definition file, such as systems/bigmem2.swift.")
    var file: String

    @Option(name: .long, help: "The system with this host name (when the file declares several).")
    var system: String?

    @Option(name: .long, help: "spdx or cyclonedx.")
    var format = Format.spdx

    @OptionGroup var output: ProgressOptions

    func run() throws {
        let context = output.context
        let definition = try context.definition(file, system: system)
        guard definition.systems.count == 1 || system != nil, let chosen = definition.systems.first else {
            throw ValidationError("\(file) declares \(definition.systems.count) systems: name one with --system (\(definition.systems.map(\.model.hostName).joined(separator: ", ")))")
        }
        let built = try definition.build(chosen, progress: context.progress)
        let document = format == .spdx ? built.entry.spdxFile : built.entry.cycloneDXFile
        if let written = FileManager.default.contents(atPath: document.path) {
            FileHandle.standardOutput.write(written)
            return
        }
        // An entry without its SBOMs (removed, or copied without them): made now from its lock
        // and package layer, the same bytes a build writes (BuildTests remakes them so, elsewhere).
        let set = try definition.lock.set(for: chosen.model, lockFile: definition.lockFile)
        guard let layer = built.entry.inputs().first(where: { $0.contains("-rootfs-") }),
              let tree = definition.builder.store.entry(layer)?.appendingPathComponent("tree") else {
            throw BuildEnvironmentError("\(built.entry.name) has no SBOM and its package layer is no longer in the store: remove the entry and build again")
        }
        let inventory = try ImageInventory(hostName: chosen.model.hostName, digest: built.digest.description, set: set, tree: tree)
        FileHandle.standardOutput.write(format == .spdx ? try SPDXDocument.json(inventory) : try CycloneDXDocument.json(inventory))
    }
}
