import BootServer
import Checks
import Foundation
import Identity
import ImagecCore
import ImageDSL
import Pools
import SwapLedger

/// Deploying one host: the incoming image made ready on its ``DeployTarget``, the target's
/// steps, the system's checks over SSH, and the previous image back by itself when a check
/// fails. Every swap is in the ledger, with each step's intent before the step, so one
/// interrupted anywhere is finished by ``resume(_:)`` or undone by ``rollback(_:to:)``.
public struct HostDeployer: Sendable {
    public var ledger: Ledger
    public var drivers: DeployDrivers
    /// Where each host's identity (SSH host keys, machine ID) is kept.
    public var secrets: HostKeys
    /// Seconds a clean shutdown may take before the machine is powered off.
    public var stopTimeout: Double = 120
    /// Seconds for SSH to answer after the machine starts.
    public var bootTimeout: Double = 300
    public var progress: ProgressReporter
    /// Runs once a step's intent is recorded, before the step is taken.
    public var beforeStep: @Sendable (SwapStep) -> Void = FaultInjection.pause

    public init(ledger: Ledger, drivers: DeployDrivers, secrets: HostKeys = HostKeys(), progress: ProgressReporter) {
        self.ledger = ledger
        self.drivers = drivers
        self.secrets = secrets
        self.progress = progress
    }

    /// What to deploy.
    public struct Request: Sendable {
        public var model: SystemModel
        /// The built raw image and its digest.
        public var image: URL
        public var digest: ImageDigest
        /// The definitions and tools it came from, stored with the image.
        public var provenance: Provenance
        /// Deployed without a passed `imagec test`.
        public var forced: Bool
        /// The network installer, for a bare-metal machine.
        public var installer: InstallerBoot?

        public init(model: SystemModel, image: URL, digest: ImageDigest, provenance: Provenance, forced: Bool,
                    installer: InstallerBoot? = nil) {
            self.model = model
            self.image = image
            self.digest = digest
            self.provenance = provenance
            self.forced = forced
            self.installer = installer
        }
    }

    /// How a deployment ended.
    public struct Outcome: Codable, Sendable {
        public var host: String
        public var swap: Int64?
        public var result: SwapResult
        public var failure: String?
        public var swapSeconds: Double?
        public var healthySeconds: Double?

        public init(host: String, swap: Int64?, result: SwapResult, failure: String? = nil, swapSeconds: Double? = nil,
                    healthySeconds: Double? = nil) {
            self.host = host
            self.swap = swap
            self.result = result
            self.failure = failure
            self.swapSeconds = swapSeconds
            self.healthySeconds = healthySeconds
        }
    }

    /// Where checks reach the host's SSH server: the deployment's `ssh`, else the system's
    /// first static address, else its host name.
    public static func sshAddress(of model: SystemModel) -> String {
        if let ssh = model.deployment?.ssh { return ssh }
        if let address = model.network.interfaces.flatMap(\.addresses).first(where: { !$0.contains(":") }) {
            return String(address.prefix { $0 != "/" })
        }
        return model.hostName
    }

    /// The target a host is deployed to.
    public func target(for deployment: Deployment, host: String) throws -> any DeployTarget {
        try drivers.target(for: deployment, host: host, stopTimeout: stopTimeout, progress: progress)
    }

    private func journal(_ record: SwapRecord) -> StepJournal {
        StepJournal(ledger: ledger, swap: record.id!, progress: progress, beforeStep: beforeStep)
    }

    /// Deploys one host; a failure of its checks is an outcome (rolled back), not an error.
    public func deploy(_ request: Request) throws -> Outcome {
        let model = request.model
        guard let deployment = model.deployment else {
            throw DeployError("\(model.hostName) has no Deployment: imagec deploy does not know its machine", kind: .usage)
        }
        let target = try target(for: deployment, host: model.hostName)
        try target.checkReady()
        if let unfinished = try ledger.unfinished(of: model.hostName).first {
            throw DeployRefused.unfinished(host: model.hostName, swap: unfinished.id!, step: unfinished.step)
        }
        let installed = try target.installed()
        let identity = try HostIdentity(host: model.hostName, secrets: secrets)
        let (incoming, outgoing) = target.names(replacing: installed)
        var record = try ledger.begin(SwapRecord(
            kind: .deploy, host: model.hostName, target: deployment, machine: target.description, pool: target.store,
            checks: model.checks ?? [], ssh: Self.sshAddress(of: model),
            volumes: model.disk.persistentVolumes.filter(\.snapshotBeforeDeploy).compactMap { deployment.volumes[$0.name] },
            incoming: incoming, outgoing: outgoing, digest: request.digest.description, previousDigest: installed?.digest,
            commit: request.provenance.commit, forced: request.forced))
        let id = record.id!
        progress("swap \(id): \(model.hostName) on \(target.description), "
            + (installed.map { "now \($0.digest ?? "an image imagec did not make")" } ?? "no disk yet"))

        // Nothing on the machine changes until the incoming image is ready.
        do {
            let preparing = Date()
            progress(.stepStarted(SwapStep.prepare.rawValue))
            try target.prepare(ReadyImage(host: model.hostName, file: request.image, digest: request.digest,
                                          metadata: request.provenance.metadata, identity: identity,
                                          installer: request.installer), swap: id)
            try ledger.done(.prepare, of: id)
            progress(.stepFinished(SwapStep.prepare.rawValue, seconds: Date().timeIntervalSince(preparing)))
        } catch {
            try? ledger.finish(id, result: .abandoned, failure: "\(error)")
            throw error
        }
        record = try ledger.swap(id) ?? record
        return try swapAndCheck(record, on: target)
    }

    /// Takes a prepared swap from its recorded step to the end: the target's steps, the
    /// checks, and the previous image back if a deploy's checks fail.
    func swapAndCheck(_ record: SwapRecord, on target: any DeployTarget) throws -> Outcome {
        let id = record.id!
        let journal = journal(record)
        let started = Date()
        do {
            // Interrupted at its checks: the swap itself is done.
            if record.step != .check { try target.install(record, journal: journal, system: drivers.access) }
        } catch {
            progress("the swap failed (\(error)); swapping back")
            do {
                try target.revert(record, journal: journal, system: drivers.access)
            } catch let revertError {
                try ledger.finish(id, result: .failed, failure: "swap: \(error); swapping back: \(revertError)")
                throw DeployError("\(record.host): the swap failed (\(error)), and so did swapping back: \(revertError)")
            }
            // The machine is checked on the image it went back to (there is none on a first install).
            var report = "\(error)"
            if record.previousDigest != nil { report += "\n" + (try checkRestored(record)) }
            try ledger.finish(id, result: .failed, failure: "swap: \(report)")
            return Outcome(host: record.host, swap: id, result: .failed, failure: report)
        }
        let swapSeconds = Date().timeIntervalSince(started)
        progress(String(format: "swapped in %.1f s; checking %@ over SSH", swapSeconds, record.host))
        try journal.intend(.check)
        var health = try check(record, checks: target.checks(for: record) + record.checks)
        if health.passed {
            do { try target.confirm(record, system: drivers.access) } catch {
                health.failure = "the new image passed its checks but could not be made to stay: \(error)"
            }
        }
        try journal.done(.check)
        guard let failure = health.failure else {
            let healthy = Date().timeIntervalSince(started)
            try ledger.finish(id, result: .healthy, swapSeconds: swapSeconds, healthySeconds: healthy)
            progress(String(format: "%@ is healthy (%.1f s after the swap began)", record.host, healthy))
            return Outcome(host: record.host, swap: id, result: .healthy, swapSeconds: swapSeconds, healthySeconds: healthy)
        }
        progress("\(record.host) failed its checks: \(failure)")
        var report = failure
        if record.kind == .deploy {
            progress("rolling \(record.host) back")
            try journal.intend(.finish)
            try target.revert(record, journal: journal, system: drivers.access)
            report += "\n" + (try checkRestored(record))
        }
        try ledger.finish(id, result: .failed, failure: report, swapSeconds: swapSeconds)
        return Outcome(host: record.host, swap: id, result: .failed, failure: report, swapSeconds: swapSeconds)
    }

    /// After a rollback: the checks the restored image passed when it was deployed (none
    /// if the ledger has no such swap: then SSH answering with the host's key is the check).
    func checkRestored(_ record: SwapRecord) throws -> String {
        let checks = try ledger.swaps(of: record.host)
            .first { $0.id != record.id && $0.result == .healthy && $0.digest == record.previousDigest }?.checks ?? []
        let health = try check(record, checks: checks)
        let what = record.previousDigest.map { "its previous image (\($0))" } ?? "its previous disk"
        let line = health.passed ? "rolled back: \(record.host) runs \(what) again, and it passed its checks"
            : "rolled back to \(what), which fails too: \(health.failure!)"
        progress(line)
        return line
    }

    /// `checks` against the record's machine.
    func check(_ record: SwapRecord, checks: [Check]) throws -> HealthCheck.Outcome {
        try drivers.access.check(record, checks: checks, bootTimeout: bootTimeout, progress: progress)
    }

    /// Finishes an interrupted swap: from its recorded step, then the checks (a deploy that
    /// never got its incoming image ready is abandoned: the machine was never touched).
    public func resume(_ record: SwapRecord) throws -> Outcome {
        let id = record.id!
        if record.step == .prepare && !record.stepDone {
            try ledger.finish(id, result: .abandoned, failure: "interrupted before the swap began")
            progress("swap \(id) of \(record.host) was interrupted before touching the machine: abandoned")
            return Outcome(host: record.host, swap: id, result: .abandoned)
        }
        let target = try target(for: record.target, host: record.host)
        if record.step == .finish {
            // Interrupted while swapping back after failed checks.
            try target.revert(record, journal: journal(record), system: drivers.access)
            try ledger.finish(id, result: .failed, failure: record.failure ?? "checks failed (interrupted while rolling back)")
            return Outcome(host: record.host, swap: id, result: .failed, failure: record.failure)
        }
        progress("resuming swap \(id) of \(record.host) at step \(record.step)")
        return try swapAndCheck(record, on: target)
    }

    /// Reverts an interrupted swap, or swaps `host` back to an earlier image: the one its
    /// current image replaced, or the one swap `to` put in place.
    public func rollback(_ host: String, to swap: Int64? = nil) throws -> Outcome {
        if let unfinished = try ledger.unfinished(of: host).last {
            progress("reverting swap \(unfinished.id!) of \(host), interrupted at step \(unfinished.step)")
            try target(for: unfinished.target, host: host).revert(unfinished, journal: journal(unfinished), system: drivers.access)
            try ledger.finish(unfinished.id!, result: .reverted)
            return Outcome(host: host, swap: unfinished.id, result: .reverted)
        }
        guard let latest = try ledger.swaps(of: host).first else { throw DeployError("the ledger has no swap of '\(host)'", kind: .usage) }
        let target = try target(for: latest.target, host: host)
        guard let current = try target.installed() else { throw DeployError("\(target.store) has no '\(target.disk)'") }
        let generations = try target.generations()
        let incoming: InstalledImage
        if let swap {
            guard let image = generations.first(where: { $0.swap == swap }) else {
                throw DeployError("\(host) has no image of swap \(swap) (generations: "
                    + "\(generations.isEmpty ? "none" : generations.map(\.name).joined(separator: ", ")))", kind: .usage)
            }
            incoming = image
        } else {
            // The image the current one replaced.
            guard let record = try current.swap.flatMap({ try ledger.swap($0) }),
                  let image = generations.first(where: { $0.name == record.outgoing }) else {
                throw DeployError("\(host)'s disk has no earlier generation in \(target.store) to roll back to", kind: .usage)
            }
            // A bare-metal slot is written again by later deploys: it must still hold that image.
            if let previous = record.previousDigest, let digest = image.digest, digest != previous {
                throw DeployError("\(host)'s \(image.name) no longer holds the image swap \(record.id!) replaced (\(previous)): "
                    + "it holds \(digest) (swap \(image.swap.map(String.init) ?? "?")); roll back with --to", kind: .usage)
            }
            incoming = image
        }
        // The checks the incoming image passed when it was deployed, not the latest ones.
        let deployed = try incoming.swap.flatMap { try ledger.swap($0) }
        let record = try ledger.begin(SwapRecord(
            kind: .rollback, host: host, target: latest.target, machine: target.description, pool: target.store,
            checks: deployed?.checks ?? [], ssh: latest.ssh, volumes: latest.volumes, incoming: incoming.name,
            outgoing: target.names(replacing: current).outgoing, digest: incoming.digest ?? "unknown",
            previousDigest: current.digest, commit: latest.commit, forced: false))
        try ledger.done(.prepare, of: record.id!)
        progress("swap \(record.id!): \(host) back to \(incoming.name) (\(incoming.digest ?? "?"))")
        return try swapAndCheck(try ledger.swap(record.id!) ?? record, on: target)
    }
}
