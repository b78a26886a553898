import ArgumentParser
import BootTest
import DefinitionEvaluation
import DefinitionReview
import Foundation
import ImageBuild
import ImagecCore
import ImageDSL
import Packages

/// `imagec show`: evaluate a definition file and describe its systems.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Evaluate a system definition and show its systems.",
        discussion: """
            Compiles the file with the templates it can see, runs it in a sandbox and prints \
            each system it declares with its digest. --json prints the canonical model: sorted \
            keys, no timestamps, the same bytes on every run and machine (a JSON array when the \
            file declares several systems).
            """)

    @Argument(help: "The system definition file, such as systems/bigmem2.swift.")
    var file: String

    @Option(name: .long, help: "Show only the system with this host name.")
    var system: String?

    @Flag(name: .long, help: "Print the canonical model as JSON.")
    var json = false

    @Flag(name: .long, help: """
        Print the canonical model, for git's textconv (diff.imagec.textconv): a file outside a         definitions folder uses the templates of the current one, and a file that does not         evaluate prints its errors and its source instead, so git log -p goes on.
        """)
    var canonical = false

    @Flag(name: .long, help: "Evaluate even when a cached result exists.")
    var noCache = false

    @Flag(name: .long, help: "Also show whether each system's current image is built and has passed `imagec test`.")
    var status = false

    func run() throws {
        if canonical { return try printCanonical() }
        let evaluation = try Evaluator.standard(useCache: !noCache).evaluate(file)
        evaluation.diagnostics.forEach(Report.print)
        Report.printed(evaluation.output)
        var systems = evaluation.systems
        if let system {
            guard let match = evaluation.system(named: system) else {
                throw UsageError("\(file) declares no system named '\(system)' (it declares: "
                    + evaluation.systems.map(\.model.hostName).joined(separator: ", ") + ")")
            }
            systems = [match]
        }
        if json {
            if systems.count == 1 {
                FileHandle.standardOutput.write(systems[0].canonicalJSON)
            } else {
                FileHandle.standardOutput.write(try CanonicalJSON.encode(value: systems.map(\.model.canonical)))
            }
            return
        }
        var summaries = systems.map(Summary.init)
        if status {
            let lockFile = PackageLock.url(for: evaluation.file)
            let lock = try PackageLock.read(from: lockFile)
            let store = Store(root: Store.defaultRoot)
            for (index, system) in systems.enumerated() {
                let entry = try lock.map { try ImageBuilder.entryName(of: system, lock: $0, lockFile: lockFile) }
                summaries[index].row("status", entry.map { TestRecord.status(of: $0, in: store) } ?? "not locked (imagec lock)")
            }
        }
        Swift.print(summaries.map(\.text).joined(separator: "\n"), terminator: "")
    }

    private func printCanonical() throws {
        var evaluator = try Evaluator.standard(useCache: !noCache)
        let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        evaluator.fallbackTemplates = (try? ReviewSides.definitionsFolder(from: directory))?.appendingPathComponent("templates")
        do {
            let systems = try evaluator.evaluate(file).systems
            FileHandle.standardOutput.write(systems.count == 1 ? systems[0].canonicalJSON
                : try CanonicalJSON.encode(value: systems.map(\.model.canonical)))
        } catch let error as DefinitionError {
            let source = String(decoding: FileManager.default.contents(atPath: file) ?? Data(), as: UTF8.self)
            Swift.print("// imagec: this definition does not evaluate:")
            for diagnostic in error.diagnostics { Swift.print("// \(diagnostic.message)" + (diagnostic.location.map { " (line \($0.line))" } ?? "")) }
            Swift.print(source, terminator: source.hasSuffix("\n") ? "" : "\n")
        }
    }
}

/// A human description of one system, a line per aspect.
struct Summary {
    var text = ""

    init(_ system: Evaluation.System) {
        let model = system.model
        let location = model.location(of: "system").map { "  (\(Report.relative($0.file)):\($0.line))" } ?? ""
        text = "\(model.hostName)\(location)\n"
        row("digest", system.digest.description)
        row("distribution", "\(model.distribution), \(model.architecture.rawValue), firmware \(model.firmware.rawValue)")
        row("kernel", ([model.kernelPackage] + model.kernelArguments).joined(separator: " "))
        if model.format == .initramfs {
            row("image", "kernel and initramfs, run from memory")
        } else {
            row("disk", disk(model.disk))
        }
        row("network", network(model.network))
        row("locale", "\(model.timezone), \(model.locales.joined(separator: " ")), keyboard \(model.keyboard.layout)"
            + (model.keyboard.variant.map { " (\($0))" } ?? ""))
        row("apt sources", model.aptSources.isEmpty ? "the build host's" : model.aptSources.flatMap(\.uris).joined(separator: ", "))
        row("services", model.services.map(\.type).joined(separator: ", "))
        row("packages", "\(model.packages.count): " + model.packages.joined(separator: " "))
        if let stages = model.packageStages, stages.count > 1 {
            // The chain, and what each step of it asks for more or less.
            var below: [String] = []
            row("templates", stages.map { stage in
                let added = Set(stage.requested).subtracting(below).sorted(), removed = Set(below).subtracting(stage.requested).sorted()
                let change = below.isEmpty ? "\(stage.requested.count) packages" : (added.map { "+\($0)" } + removed.map { "-\($0)" }).joined(separator: " ")
                below = stage.requested
                return "\(Report.relative(stage.location.file)):\(stage.location.line): \(change)"
            }.joined(separator: "; "))
        }
        row("users", model.users.map { user in
            "\(user.name)" + (user.uid.map { " (\($0))" } ?? "") + (user.sudo == .none ? "" : " sudo")
        }.joined(separator: ", "))
        row("groups", model.groups.map { "\($0.name)" + ($0.gid.map { " (\($0))" } ?? "") }.joined(separator: ", "))
        row("files", model.files.map(\.path).joined(separator: ", "))
        row("units", model.units.filter(\.enabled).map(\.name).joined(separator: ", "))
        row("mounts", model.mounts.map { "\($0.what) on \($0.mountPoint)" }.joined(separator: ", "))
        row("checks", (model.checks ?? []).map(\.name).joined(separator: ", "))
        if case .bareMetal(let machine) = model.deployment?.machine {
            row("deployment", "bare metal, BMC \(machine.bmc.description), boots from \(machine.bootMAC), root disk \(machine.rootDisk.description)")
        }
    }

    mutating func row(_ label: String, _ value: String) {
        guard !value.isEmpty else { return }
        text += "  " + label.padding(toLength: 13, withPad: " ", startingAt: 0) + value + "\n"
    }

    private func disk(_ disk: DiskLayout) -> String {
        var parts = ["root \(disk.rootSize) \(disk.rootFileSystem.rawValue)" + (disk.rootSlots == .ab ? " in slots A and B" : "")]
        parts += disk.partitions.map { partition in
            "\(partition.name) \(partition.size) \(partition.fileSystem.rawValue)" + (partition.mountPoint.map { " on \($0)" } ?? "")
        }
        parts += disk.persistentVolumes.map { volume in
            "persistent \(volume.name) \(volume.size) \(volume.fileSystem.rawValue) on \(volume.mountPoint)"
                + (volume.device.map { " (\($0))" } ?? " (own disk)")
        }
        return parts.joined(separator: "; ")
    }

    private func network(_ network: NetworkConfiguration) -> String {
        var parts = network.interfaces.map { interface in
            "\(interface.name) " + (interface.dhcp ? "dhcp" : interface.addresses.isEmpty ? "manual" : interface.addresses.joined(separator: " "))
                + (interface.gateway.map { " via \($0)" } ?? "")
        }
        parts += network.routes.map { "route \($0.destination) via \($0.gateway)" }
        if !network.nameServers.isEmpty { parts.append("dns " + network.nameServers.joined(separator: " ")) }
        return parts.joined(separator: "; ")
    }
}
