import ArgumentParser
import DefinitionEvaluation
import Foundation
import Identity
import ImagecCore
import ImageDSL
import Pools
import Targets

/// `imagec push`: build if needed and upload each system's image to the pool its deployment names.
struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Build if needed and upload each system's image to its deployment pool.",
        discussion: """
            The pool is the one the system's Deployment(to:disk:) names: Ceph RBD (through \
            librbd) or a local directory of qcow2 files. An image is stored once per digest, as \
            <prefix>_<host>_<YYYYMMDDHHMM> with its digest, system, the definitions' git commit \
            and imagec's version as metadata, and a protected snapshot. A digest already in the \
            pool uploads nothing; an image of the same host (or the same packages) already there \
            becomes its parent, and only the blocks that differ are written. Zero blocks are \
            never written.

            With --candidate, each host then gets its candidate root disk, <disk>_candidate: a \
            clone of the image with the host's SSH host keys and machine ID (kept in \
            $IMAGEC_SECRETS, default /var/lib/imagec/secrets) written into it by libguestfs. \
            That takes an appliance VM per host (15–30 s without KVM).
            """)

    @Argument(help: "The system definition file, such as systems/bigmem2.swift.")
    var file: String

    @Option(name: .long, help: "Push only the system with this host name.")
    var system: String?

    @Flag(name: .long, help: "Also make each host's candidate root disk, with its identity written in.")
    var candidate = false

    @OptionGroup var output: ProgressOptions

    @Flag(name: .long, help: "Print the results as JSON.")
    var json = false

    struct Pushed: Codable {
        var hostName: String
        var pool: String
        var image: String
        var digest: String
        var parent: String?
        var reused: Bool
        var bytesWritten: UInt64
        var seconds: Double
        var candidate: String?
        /// Seconds to clone and write the identity.
        var candidateSeconds: Double?
    }

    func run() throws {
        let context = output.context
        let progress = context.progress
        let definition = try context.definition(file, system: system)
        // Every system says where it goes before anything is built or written.
        for system in definition.systems where system.model.deployment == nil {
            throw DefinitionError(.invalid, [Diagnostic(
                "system '\(system.model.hostName)' has no Deployment(to:disk:): imagec push does not know its pool",
                at: system.model.location(of: "system"))])
        }
        // The host identities are checked (and made) before anything is uploaded.
        let identities = try candidate ? definition.systems.map { try HostIdentity(host: $0.model.hostName) } : []
        let drivers = try context.drivers(probing: candidate ? definition.builder.store : nil)
        var results: [Pushed] = []
        for (index, system) in definition.systems.enumerated() {
            let model = system.model, deployment = model.deployment!
            let built = try definition.build(system, progress: progress)
            let set = try definition.lock.set(for: model, lockFile: definition.lockFile)
            let pool = try drivers.pool(deployment.pool)
            let provenance = try Provenance(definitions: definition.file, version: Imagec.version, set: set)
            progress("pushing \(model.hostName) to \(pool.description)")
            let started = Date()
            let result = try ImagePusher(pool: pool).push(
                built.image, digest: built.digest.description, host: model.hostName, prefix: deployment.prefix,
                metadata: provenance.metadata) { step in
                let seconds = max(Date().timeIntervalSince(started), 0.001)
                progress(.transfer("push", done: step.done, total: step.total, written: step.written,
                                   bytesPerSecond: UInt64(Double(step.written) / seconds)))
            }
            let throughput = ByteCount(bytes: UInt64(Double(result.bytesWritten) / max(result.seconds, 0.001))).rounded
            progress(result.reused ? "\(result.image.name) already holds this digest: nothing written"
                : "\(result.image.name): \(ByteCount(bytes: result.bytesWritten).rounded) written in \(String(format: "%.1f", result.seconds)) s (\(throughput)/s)"
                    + (result.image.parent.map { ", a clone of \($0)" } ?? ""))
            var candidateName: String?, candidateSeconds: Double?
            if candidate {
                progress("making \(model.hostName)'s candidate \(DiskNames(disk: deployment.disk).candidate) with its identity")
                let started = Date()
                candidateName = try ImagePusher(pool: pool).prepareCandidate(
                    of: result.image, host: model.hostName, disk: deployment.disk,
                    metadata: [PoolMetadata.commit: provenance.commit, PoolMetadata.version: provenance.version]) { disk in
                    try drivers.writeIdentity(identities[index], disk)
                }.name
                candidateSeconds = (Date().timeIntervalSince(started) * 10).rounded() / 10
                progress("\(candidateName!): ready in \(String(format: "%.1f", candidateSeconds!)) s")
            }
            results.append(Pushed(hostName: model.hostName, pool: pool.description, image: result.image.name, digest: built.digest.description,
                                  parent: result.image.parent, reused: result.reused, bytesWritten: result.bytesWritten,
                                  seconds: (result.seconds * 10).rounded() / 10, candidate: candidateName,
                                  candidateSeconds: candidateSeconds))
            if !json {
                Swift.print("\(pool.description) \(result.image.name)")
                if let candidateName { Swift.print("\(pool.description) \(candidateName)") }
            }
        }
        if json { FileHandle.standardOutput.write(try CanonicalJSON.encode(value: results)) }
    }
}

/// `imagec pool`: what a pool holds.
struct PoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool", abstract: "Inspect and clean image pools.", subcommands: [List.self, Collect.self])

    /// The pools the systems of `files` deploy to, by description.
    static func pools(of files: [String]) throws -> [String: any ImagePool] {
        var pools: [String: any ImagePool] = [:]
        for file in files {
            for system in try Evaluator.standard().evaluate(file).systems {
                if let target = system.model.deployment?.pool {
                    let pool = try DeployDrivers.standard(emulate: true).pool(target)
                    pools[pool.description] = pool
                }
            }
        }
        guard !pools.isEmpty else { throw UsageError("no system in \(files.joined(separator: ", ")) declares a Deployment") }
        return pools
    }

    struct Collect: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc", abstract: "Remove old generations and leftovers from the pools a definition deploys to.",
            discussion: """
                Keeps the last --keep base images of each system, every image a host's disk is a clone \
                of, and every image a kept one is a clone of; removes the rest, clones first, and the \
                temporary images of interrupted pushes of this machine.
                """)

        @Argument(help: "System definition files whose Deployment pools to clean.")
        var files: [String]

        @Option(name: .long, help: "Base images to keep per system.")
        var keep = 3

        @Flag(name: .long, help: "List what would be removed, and remove nothing.")
        var dryRun = false

        func validate() throws {
            if keep < 1 { throw ValidationError("--keep must be at least 1") }
        }

        func run() throws {
            var failures = 0
            for (name, pool) in try PoolCommand.pools(of: files).sorted(by: { $0.key < $1.key }) {
                let garbage = PoolCollector.garbage(in: try pool.images(), keep: keep)
                let leftovers = PoolCollector.abandoned(try pool.leftovers())
                for image in garbage {
                    Swift.print("\(name) \(image.name)  \(ByteCount(bytes: image.used).rounded)")
                    if !dryRun { failures += attempt { try pool.remove(image.name) } }
                }
                for leftover in leftovers {
                    Swift.print("\(name) \(leftover)  (left by an interrupted push)")
                    if !dryRun { failures += attempt { try pool.removeLeftover(leftover) } }
                }
            }
            if failures > 0 { throw PoolError("\(failures) image\(failures == 1 ? "" : "s") could not be removed (see above)") }
        }

        /// Runs a removal; a failure is reported and counted, and the others go on.
        private func attempt(_ removal: () throws -> Void) -> Int {
            do { try removal(); return 0 } catch { Report.error("\(error)"); return 1 }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls", abstract: "List the images of the pools a definition deploys to.",
            discussion: "Each image with its digest, system, size, bytes used, parent and the hosts whose clones use it.")

        @Argument(help: "System definition files whose Deployment pools to list.")
        var files: [String]

        @Flag(name: .long, help: "Print the images as JSON.")
        var json = false

        func run() throws {
            let pools = try PoolCommand.pools(of: files)
            var listing: [String: [PoolImage]] = [:]
            for (name, pool) in pools.sorted(by: { $0.key < $1.key }) { listing[name] = try pool.images() }
            if json { FileHandle.standardOutput.write(try CanonicalJSON.encode(value: listing)); return }
            for (name, images) in listing.sorted(by: { $0.key < $1.key }) {
                Swift.print(name)
                for image in images {
                    let users = images.filter { $0.parent == image.name && !$0.isBase }.compactMap { $0.metadata[PoolMetadata.host] }
                    let digest = image.digest.map(shortDigest) ?? "-"
                    Swift.print("  " + [image.name, digest, image.system ?? image.metadata[PoolMetadata.host] ?? "-",
                                        ByteCount(bytes: image.size).rounded, ByteCount(bytes: image.used).rounded + " used",
                                        image.parent.map { "clone of \($0)" } ?? "",
                                        users.isEmpty ? "" : "used by \(users.sorted().joined(separator: ", "))"]
                        .filter { !$0.isEmpty }.joined(separator: "  "))
                }
            }
        }
    }
}
