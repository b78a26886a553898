import ArgumentParser
import Builder
import Deployer
import Foundation
import ImageDSL

/// `imagec deploy`: reinstall = image swap, checked, with automatic rollback.
struct DeployCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Swap each system's machine onto its new image, check it, and roll back if a check fails.",
        discussion: """
            For each system (its Deployment names the pool, the root disk and the machine): build if \
            needed, refuse a digest that has not passed `imagec test` (unless --force, recorded), push, \
            make the host's candidate with its identity, then stop the machine, rename its root disk \
            to <disk>_d<swap> (or <disk>_original), give the candidate the disk's name, start it and \
            run the system's checks over SSH with the host's stable key. A failed check swaps the \
            previous disk back. Every step is in the ledger ($IMAGEC_LEDGER, default \
            /var/lib/imagec/ledger.sqlite) before it is taken: an interrupted deploy is finished by \
            `imagec deploy --resume` or undone by `imagec rollback HOST`.
            """)

    @Argument(help: "System definition files.")
    var files: [String] = []

    @Option(name: .long, help: "Deploy only the system with this host name.")
    var system: String?

    @Flag(name: .long, help: "Deploy digests that have not passed `imagec test` (recorded as forced).")
    var force = false

    @Flag(name: .long, help: "Finish the swaps an interrupted deploy left (no files needed).")
    var resume = false

    @Flag(name: .long, help: "Print the plan and change nothing.")
    var dryRun = false

    @Option(name: .long, help: "Seconds for SSH to answer after the machine starts.")
    var bootTimeout: Double = 300

    @Option(name: .long, help: "Seconds a clean shutdown may take before the machine is powered off.")
    var stopTimeout: Double = 120

    @Option(name: .long, help: "Hosts deployed at once.")
    var jobs = 4

    @Flag(name: .shortAndLong, help: "Print no progress.")
    var quiet = false

    @Flag(name: .long, help: "Print the results as JSON.")
    var json = false

    struct Row: Codable {
        var host: String
        var swap: Int64?
        var result: String
        var swapSeconds: Double?
        var healthySeconds: Double?
        var failure: String?
    }

    func validate() throws {
        if !resume && files.isEmpty { throw ValidationError("name system definition files, or --resume") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        let lock = NSLock()
        let progress: @Sendable (String) -> Void = { [quiet] message in
            if !quiet { lock.withLock { FileHandle.standardError.write(Data("\(message)\n".utf8)) } }
        }
        let ledger = try Ledger()
        let store = Store(root: Store.defaultRoot)
        var rows: [Row] = []
        if resume {
            let unfinished = try ledger.unfinished()
            if unfinished.isEmpty { progress("no unfinished swap in \(ledger.path.path)") }
            for record in unfinished {
                // Finishing a swap writes no identity: no appliance, no KVM probe.
                let deployer = try makeDeployer(ledger: ledger, store: nil, host: record.host, progress: progress)
                rows.append(row(try deployer.resume(record)))
            }
            try finish(rows)
            return
        }
        var plans: [(DefinitionBuild, Evaluation.System)] = []
        for file in files {
            let definition = try DefinitionBuild(file: file, system: system, fetchingPackages: !dryRun, progress: progress)
            for system in definition.systems {
                guard let deployment = system.model.deployment, deployment.machine != nil else {
                    throw DefinitionError(.invalid, [Diagnostic(
                        "system '\(system.model.hostName)' has no Deployment(to:disk:machine:): imagec deploy does not know its machine",
                        at: system.model.location(of: system.model.deployment == nil ? "system" : "deployment"))])
                }
                plans.append((definition, system))
            }
        }
        if dryRun {
            for (_, system) in plans {
                let deployment = system.model.deployment!
                let pool = ImagePusher.pool(for: deployment.pool)
                let machine = try Deployer.hypervisor(for: deployment.machine!)
                let current = try pool.images().first { $0.name == deployment.disk }
                Swift.print("""
                    \(system.model.hostName): \(machine.description)
                      push and make \(ImagePusher.candidateName(disk: deployment.disk)) in \(pool.description)
                      \(deployment.shutdown == .powerOff ? "flush its file systems and power the machine off" : "shut the machine down"); \(deployment.disk) → \(DiskSwap.outgoingName(disk: deployment.disk, current: current)); \
                    \(ImagePusher.candidateName(disk: deployment.disk)) → \(deployment.disk); start it
                      check over SSH at \(HostDeployer.sshAddress(of: system.model)): \((system.model.checks ?? []).map(\.name).joined(separator: ", "))
                    """)
            }
            return
        }
        // Built and gated first, one at a time (builds share the store); then deployed concurrently.
        var requests: [HostDeployer.Request] = []
        for (definition, system) in plans {
            let model = system.model
            let built = try definition.build(system, progress: progress)
            let entry = built.entry.lastPathComponent
            let passed = TestRecord.all(for: entry, in: store).contains(where: \.passed)
            if !passed && !force {
                throw UsageError("\(model.hostName)'s image \(built.digest.prefix(12)) has not passed `imagec test` "
                    + "(\(TestRecord.status(of: entry, in: store))): test it, or deploy with --force")
            }
            let set = try definition.lock.set(for: model, lockFile: definition.lockFile)
            let commit = PushCommand.definitionsCommit(of: definition.file)
            requests.append(HostDeployer.Request(
                model: model, image: built.image, digest: "sha256:" + built.digest,
                metadata: [PoolMetadata.commit: commit, PoolMetadata.version: Imagec.version,
                           PoolMetadata.packages: CanonicalJSON.sha256(try CanonicalJSON.encode(value: set))],
                commit: commit, forced: !passed))
        }
        let results = ResultBox(count: requests.count)
        let limit = DispatchSemaphore(value: jobs)
        let group = DispatchGroup()
        for (index, request) in requests.enumerated() {
            limit.wait()
            group.enter()
            let host = request.model.hostName
            let deployer = try makeDeployer(ledger: ledger, store: store, host: host, progress: { progress("\(host): \($0)") })
            DispatchQueue.global().async {
                defer { limit.signal(); group.leave() }
                do {
                    results.set(index, row(try deployer.deploy(request)))
                } catch {
                    progress("\(host): error: \(error)")
                    results.set(index, Row(host: host, result: "error", failure: "\(error)"))
                }
            }
        }
        group.wait()
        rows = results.rows.compactMap { $0 }
        try finish(rows)
    }

    /// A deployer; `store` is where the KVM probe's answer is kept, nil when no appliance will run.
    private func makeDeployer(ledger: Ledger, store: Store?, host: String, progress: @escaping @Sendable (String) -> Void) throws -> HostDeployer {
        let accelerator = try store.map { try Accelerator.forAppliance(store: $0).0 } ?? .tcg
        var deployer = HostDeployer(ledger: ledger, emulate: accelerator == .tcg, progress: progress)
        deployer.bootTimeout = bootTimeout
        deployer.stopTimeout = stopTimeout
        return deployer
    }

    private func row(_ outcome: HostDeployer.Outcome) -> Row {
        Row(host: outcome.host, swap: outcome.swap, result: outcome.result.rawValue,
            swapSeconds: outcome.swapSeconds.map { ($0 * 10).rounded() / 10 },
            healthySeconds: outcome.healthySeconds.map { ($0 * 10).rounded() / 10 }, failure: outcome.failure)
    }

    /// The per-host table (or JSON); a host that is not healthy makes the exit status 4.
    private func finish(_ rows: [Row]) throws {
        if json {
            FileHandle.standardOutput.write(try CanonicalJSON.encode(value: rows))
        } else if !rows.isEmpty {
            Swift.print(StatusCommand.table([["host", "swap", "result", "swap s", "healthy s"]] + rows.map { row in
                [row.host, row.swap.map(String.init) ?? "-", row.result, row.swapSeconds.map { "\($0)" } ?? "-",
                 row.healthySeconds.map { "\($0)" } ?? "-"]
            }))
            for row in rows where row.failure != nil { Swift.print("\n\(row.host): \(row.failure!)") }
        }
        if rows.contains(where: { $0.result != SwapResult.healthy.rawValue && $0.result != SwapResult.abandoned.rawValue }) {
            throw TestsFailed()
        }
    }

    private final class ResultBox: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var rows: [Row?]
        init(count: Int) { rows = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ row: Row) { lock.withLock { rows[index] = row } }
    }
}

/// `imagec rollback HOST`: back to the previous generation, or further back.
struct RollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Swap a host back to its previous image (or the one of swap --to), or undo an interrupted swap.",
        discussion: "Needs only the ledger: it records where each host is deployed and how to check it.")

    @Argument(help: "The host name.")
    var host: String

    @Option(name: .long, help: "The swap (ledger id, see `imagec status --history`) whose image to go back to.")
    var to: Int64?

    @Option(name: .long, help: "Seconds for SSH to answer after the machine starts.")
    var bootTimeout: Double = 300

    @Option(name: .long, help: "Seconds a clean shutdown may take before the machine is powered off.")
    var stopTimeout: Double = 120

    func run() throws {
        let progress: @Sendable (String) -> Void = { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
        // A rollback writes no identity: libguestfs does not run.
        var deployer = HostDeployer(ledger: try Ledger(), emulate: true, progress: progress)
        deployer.bootTimeout = bootTimeout
        deployer.stopTimeout = stopTimeout
        let outcome = try deployer.rollback(host, to: to)
        Swift.print("\(host): swap \(outcome.swap.map(String.init) ?? "-") \(outcome.result.rawValue)")
        if let failure = outcome.failure { Swift.print(failure) }
        if outcome.result != .healthy && outcome.result != .reverted { throw TestsFailed() }
    }
}

/// `imagec status`: what each host runs, since when, and whether it matches its definition.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what each host runs now, since when, its drift from its definition, and its rollback targets.",
        discussion: "With definition files, each host's current digest is compared with the digest its definition builds now.")

    @Argument(help: "System definition files to compare with (optional).")
    var files: [String] = []

    @Flag(name: .long, help: "List every swap of the ledger instead.")
    var history = false

    @Flag(name: .long, help: "Print as JSON.")
    var json = false

    struct HostStatus: Codable {
        var host: String
        var runs: String?
        var since: String?
        var swap: Int64?
        var lastSwap: String
        var definition: String?
        var drift: Bool?
        var rollbackTargets: [String]
    }

    static func table(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }

    func run() throws {
        let ledger = try Ledger()
        let swaps = try ledger.swaps()
        let time = ISO8601DateFormatter()
        if history {
            if json { FileHandle.standardOutput.write(try CanonicalJSON.encode(value: swaps)); return }
            Swift.print(Self.table([["swap", "host", "kind", "result", "digest", "forced", "user", "started", "step"]] + swaps.map { swap in
                [String(swap.id!), swap.host, swap.kind.rawValue, swap.result.rawValue, String(swap.digest.dropFirst(7).prefix(12)),
                 swap.forced ? "yes" : "", swap.user, time.string(from: swap.started), swap.step.rawValue + (swap.stepDone ? "" : "…")]
            }))
            return
        }
        var wanted: [String: String] = [:]
        for file in files {
            let definition = try DefinitionBuild(file: file, system: nil, fetchingPackages: false, progress: { _ in })
            for system in definition.systems {
                let set = try definition.lock.set(for: system.model, lockFile: definition.lockFile)
                wanted[system.model.hostName] = "sha256:" + (try ImageBuilder.digest(of: system, set: set))
            }
        }
        var statuses: [HostStatus] = []
        for host in Array(Set(swaps.map(\.host))).sorted() {
            let latest = swaps.first { $0.host == host }!
            let pool = ImagePusher.pool(for: latest.target.pool)
            let images = (try? pool.images()) ?? []
            let disk = images.first { $0.name == latest.target.disk }
            let swap = disk?.metadata[PoolMetadata.swap].flatMap(Int64.init)
            let since = swap.flatMap { id in swaps.first { $0.id == id } }?.finished
            let generations = images.filter { $0.name.hasPrefix(latest.target.disk + "_d") || $0.name == latest.target.disk + "_original" }
                .map(\.name).sorted()
            statuses.append(HostStatus(
                host: host, runs: disk?.digest, since: since.map { time.string(from: $0) }, swap: swap,
                lastSwap: "\(latest.id!) \(latest.kind.rawValue) \(latest.result.rawValue)", definition: wanted[host],
                drift: wanted[host].map { $0 != disk?.digest }, rollbackTargets: generations))
        }
        if json { FileHandle.standardOutput.write(try CanonicalJSON.encode(value: statuses)); return }
        Swift.print(Self.table([["host", "runs", "since", "last swap", "matches definition", "can roll back to"]] + statuses.map { status in
            [status.host, status.runs.map { String($0.dropFirst(7).prefix(12)) } ?? "-", status.since ?? "-", status.lastSwap,
             status.drift.map { $0 ? "no (drift)" : "yes" } ?? "-", status.rollbackTargets.joined(separator: ", ")]
        }))
    }
}
