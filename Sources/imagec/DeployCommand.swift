import ArgumentParser
import Fleet
import Foundation
import ImagecCore
import ImageDSL
import SwapLedger
import Targets

/// `imagec deploy`: reinstall = image swap, checked, with automatic rollback.
struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Swap each system's machine onto its new image, check it, and roll back if a check fails.",
        discussion: """
            For each system (its Deployment names the pool, the root disk and the machine): build if \
            needed, refuse a digest that has not passed `imagec test` (unless --force, recorded), push, \
            make the host's candidate with its identity, then stop the machine, rename its root disk \
            to <disk>_d<swap> (or <disk>_original), give the candidate the disk's name, start it and \
            run the system's checks over SSH with the host's stable key. A failed check swaps the \
            previous disk back. A bare-metal machine that answers over SSH writes the root slot it does \
            not run while it runs and kexecs into it (no firmware, no BMC); one that does not is \
            booted through its BMC into the network installer (`imagec serve`, state in \
            $IMAGEC_BOOT_STATE), which does the same. Once its checks pass the slot is the default; \
            a failed check takes it back to the previous slot (a kexec, or a power cycle). Every step is in the ledger ($IMAGEC_LEDGER, default \
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

    @Option(name: .long, help: ArgumentHelp(
        "The network installer's definition, for bare-metal machines (default: installer.swift beside the first file).",
        valueName: "file"))
    var installer: String?

    @Option(name: .long, help: ArgumentHelp(
        "How bare-metal machines take their images: in-place (the running system writes its other root slot and kexecs), "
            + "network (through the BMC and the network installer), or automatic (in place when the machine answers over SSH).",
        valueName: "way"))
    var via = BareMetalTarget.Via.automatic

    @Option(name: .long, help: ArgumentHelp(
        "Seconds a bare-metal machine's hardware watchdog gives a kexec in place and the boot after it, before it resets the machine "
            + "into its default slot (keep it under --boot-timeout).", valueName: "seconds"))
    var watchdogTimeout = 300

    @OptionGroup var output: ProgressOptions

    @Flag(name: .long, help: "Print the results as JSON.")
    var json = false

    func validate() throws {
        if !resume && files.isEmpty { throw ValidationError("name system definition files, or --resume") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if watchdogTimeout < 30 || watchdogTimeout > 2046 {
            throw ValidationError("--watchdog-timeout must be between 30 and 2046 seconds (what hardware watchdogs allow)")
        }
    }

    func run() async throws {
        let context = output.context
        if resume {
            // Finishing a swap writes no identity: no appliance, no KVM probe.
            let rollout = try context.rollout(drivers: try drivers(context), bootTimeout: bootTimeout, stopTimeout: stopTimeout)
            return try finish(try await rollout.resume())
        }
        var definitions = try files.map { try context.definition($0, system: system, fetchingPackages: false) }
        if dryRun {
            let rollout = try context.rollout(drivers: try drivers(context), bootTimeout: bootTimeout, stopTimeout: stopTimeout)
            let plans = try rollout.plan(try Rollout.hosts(of: definitions).map(\.model))
            if json { FileHandle.standardOutput.write(try CanonicalJSON.encode(value: plans)) }
            else { plans.forEach { Swift.print($0.text) } }
            return
        }
        var rollout = try context.rollout(drivers: try drivers(context), bootTimeout: bootTimeout, stopTimeout: stopTimeout)
        rollout.jobs = jobs
        rollout.force = force
        // Refused before anything is fetched or built, or libguestfs probed.
        try rollout.refuseUnfinished(try Rollout.hosts(of: definitions))
        if try Rollout.hosts(of: definitions).contains(where: { $0.model.deployment?.isBareMetal == true }) {
            let file = installer ?? URL(fileURLWithPath: files[0]).deletingLastPathComponent().appendingPathComponent("installer.swift").path
            guard FileManager.default.fileExists(atPath: file) else {
                throw ValidationError("\(file) does not exist: bare-metal machines boot the network installer; name its definition with --installer FILE")
            }
            rollout.installer = try context.definition(file, fetchingPackages: false)
        }
        for index in definitions.indices { try definitions[index].fetchPackages(progress: context.progress) }
        try rollout.installer?.fetchPackages(progress: context.progress)
        rollout.deployer.drivers = try drivers(context, probing: definitions.first?.builder.store)
        try finish(try await rollout.run(try Rollout.hosts(of: definitions)))
    }

    private func drivers(_ context: CommandContext, probing store: Store? = nil) throws -> DeployDrivers {
        var drivers = try context.drivers(probing: store)
        drivers.bareMetalVia = via
        drivers.bareMetalWatchdogTimeout = watchdogTimeout
        return drivers
    }

    /// The per-host table (or JSON); a host that is not healthy makes the exit status 4.
    private func finish(_ outcomes: [HostDeployer.Outcome]) throws {
        let outcomes = outcomes.map { outcome in
            var rounded = outcome
            rounded.swapSeconds = outcome.swapSeconds.map { ($0 * 10).rounded() / 10 }
            rounded.healthySeconds = outcome.healthySeconds.map { ($0 * 10).rounded() / 10 }
            return rounded
        }
        if json {
            FileHandle.standardOutput.write(try CanonicalJSON.encode(value: outcomes))
        } else if !outcomes.isEmpty {
            Swift.print(Table.render([["host", "swap", "result", "swap s", "healthy s"]] + outcomes.map { outcome in
                [outcome.host, outcome.swap.map(String.init) ?? "-", outcome.result.rawValue,
                 outcome.swapSeconds.map { "\($0)" } ?? "-", outcome.healthySeconds.map { "\($0)" } ?? "-"]
            }))
            for outcome in outcomes where outcome.failure != nil { Swift.print("\n\(outcome.host): \(outcome.failure!)") }
        }
        if outcomes.contains(where: { $0.result != .healthy && $0.result != .abandoned }) { throw ChecksFailed() }
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

    @Option(name: .long, help: ArgumentHelp("How a bare-metal machine switches slots: in-place (kexec), network (a power cycle through its BMC), or automatic.",
                                            valueName: "way"))
    var via = BareMetalTarget.Via.automatic

    func run() throws {
        let context = CommandContext()
        // A rollback writes no identity: libguestfs does not run.
        var drivers = try context.drivers()
        drivers.bareMetalVia = via
        var deployer = HostDeployer(ledger: try Ledger(), drivers: drivers, progress: context.progress)
        deployer.bootTimeout = bootTimeout
        deployer.stopTimeout = stopTimeout
        let outcome = try deployer.rollback(host, to: to)
        Swift.print("\(host): swap \(outcome.swap.map(String.init) ?? "-") \(outcome.result.rawValue)")
        if let failure = outcome.failure { Swift.print(failure) }
        if outcome.result != .healthy && outcome.result != .reverted { throw ChecksFailed() }
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

    func run() throws {
        let ledger = try Ledger()
        if history {
            let swaps = try ledger.swaps()
            if json { FileHandle.standardOutput.write(try CanonicalJSON.encode(value: swaps)); return }
            let time = ISO8601DateFormatter()
            Swift.print(Table.render([["swap", "host", "kind", "result", "digest", "forced", "user", "started", "step"]] + swaps.map { swap in
                [String(swap.id!), swap.host, swap.kind.rawValue, swap.result.rawValue, shortDigest(swap.digest),
                 swap.forced ? "yes" : "", swap.user, time.string(from: swap.started), swap.step.rawValue + (swap.stepDone ? "" : "…")]
            }))
            return
        }
        let context = CommandContext()
        var wanted: [String: ImageDigest] = [:]
        for file in files {
            wanted.merge(try FleetStatus.wanted(by: try context.definition(file, fetchingPackages: false))) { $1 }
        }
        let statuses = try FleetStatus.hosts(in: ledger, drivers: try context.drivers(), wanted: wanted)
        if json { FileHandle.standardOutput.write(try CanonicalJSON.encode(value: statuses)); return }
        Swift.print(Table.render([["host", "runs", "since", "last swap", "matches definition", "can roll back to"]] + statuses.map { status in
            [status.host, status.runs.map(shortDigest) ?? "-", status.since ?? "-", status.lastSwap,
             status.drift.map { $0 ? "no (drift)" : "yes" } ?? "-", status.rollbackTargets.joined(separator: ", ")]
        }))
        for status in statuses {
            guard let slots = status.slots else { continue }
            Swift.print("\n\(status.host)'s root slots:")
            Swift.print(Table.render([["slot", "holds", "swap", "default", "running", "last failed try"]] + slots.map { slot in
                [slot.slot, slot.digest.map(shortDigest) ?? "-", slot.swap.map(String.init) ?? "-", slot.isDefault ? "yes" : "",
                 slot.running.map { $0 ? "yes" : "" } ?? "?", slot.failedTry ?? ""]
            }))
        }
    }
}

extension BareMetalTarget.Via: ExpressibleByArgument {}
