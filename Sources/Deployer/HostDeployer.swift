import Builder
import Foundation
import ImageDSL

/// `imagec deploy` for one host: push the image, make the host's candidate with its
/// identity, swap it in (``DiskSwap``), check the machine over SSH, and swap back by itself
/// when a check fails. Every swap is in the ledger, with each step's intent before the step.
public struct HostDeployer: Sendable {
    public var ledger: Ledger
    public var secrets: HostKeys
    /// Run libguestfs's appliance under TCG.
    public var emulate: Bool
    public var stopTimeout: Double = 120
    /// Seconds for SSH to answer after the machine starts.
    public var bootTimeout: Double = 300
    public var progress: @Sendable (String) -> Void

    public init(ledger: Ledger, secrets: HostKeys = HostKeys(), emulate: Bool, progress: @escaping @Sendable (String) -> Void) {
        self.ledger = ledger
        self.secrets = secrets
        self.emulate = emulate
        self.progress = progress
    }

    /// What to deploy.
    public struct Request: Sendable {
        public var model: SystemModel
        /// The built raw image and its digest (`sha256:…`).
        public var image: URL
        public var digest: String
        /// Pool metadata for the pushed image (commit, version, packages).
        public var metadata: [String: String]
        public var commit: String
        /// Deployed without a passed `imagec test`.
        public var forced: Bool

        public init(model: SystemModel, image: URL, digest: String, metadata: [String: String], commit: String, forced: Bool) {
            self.model = model
            self.image = image
            self.digest = digest
            self.metadata = metadata
            self.commit = commit
            self.forced = forced
        }
    }

    /// How a deployment ended.
    public struct Outcome: Sendable {
        public var host: String
        public var swap: Int64?
        public var result: SwapResult
        public var failure: String?
        public var swapSeconds: Double?
        public var healthySeconds: Double?
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

    /// Deploys one host; a failure of its checks is an outcome (rolled back), not an error.
    public func deploy(_ request: Request) throws -> Outcome {
        let model = request.model
        guard let target = model.deployment, let machineSpec = target.machine else {
            throw PoolError("\(model.hostName)'s Deployment names no machine (machine: .libvirt(…) or .proxmox(…))")
        }
        let pool = ImagePusher.pool(for: target.pool)
        let machine = try hypervisor(for: machineSpec)
        let disks = try machine.disks()
        guard disks.contains(target.disk) else {
            throw PoolError("\(machine.description) boots from \(disks.isEmpty ? "no pool disk" : disks.joined(separator: ", ")), not '\(target.disk)'")
        }
        if let unfinished = try ledger.unfinished(of: model.hostName).first {
            throw PoolError("swap \(unfinished.id!) of \(model.hostName) never finished (at step \(unfinished.step.rawValue)): "
                + "run `imagec deploy --resume` or `imagec rollback \(model.hostName)` first")
        }
        let current = try pool.images().first { $0.name == target.disk }
        let identity = try HostIdentity(host: model.hostName, secrets: secrets)
        var record = try ledger.begin(SwapRecord(
            kind: .deploy, host: model.hostName, target: target, checks: model.checks ?? [], ssh: Self.sshAddress(of: model),
            volumes: model.disk.persistentVolumes.filter(\.snapshotBeforeDeploy).compactMap { target.volumes[$0.name] },
            incoming: ImagePusher.candidateName(disk: target.disk), outgoing: DiskSwap.outgoingName(disk: target.disk, current: current),
            digest: request.digest, previousDigest: current?.digest, commit: request.commit, forced: request.forced))
        let id = record.id!
        progress("swap \(id): \(model.hostName) on \(machine.description), \(current.map { "now \($0.digest ?? "an image imagec did not make")" } ?? "no disk yet")")

        // Nothing on the machine changes until the candidate is ready.
        do {
            progress("pushing to \(pool.description)")
            let pushed = try ImagePusher(pool: pool).push(request.image, digest: request.digest, host: model.hostName, prefix: target.prefix,
                                                          metadata: request.metadata) { _ in }
            progress(pushed.reused ? "\(pushed.image.name) already holds this digest" : "\(pushed.image.name): \(ByteCount(bytes: pushed.bytesWritten).rounded) written")
            progress("writing \(model.hostName)'s identity into \(record.incoming)")
            _ = try ImagePusher(pool: pool).prepareCandidate(
                of: pushed.image, host: model.hostName, disk: target.disk, identity: identity, emulate: emulate,
                metadata: request.metadata.merging([PoolMetadata.swap: String(id)]) { $1 })
            try ledger.done(.prepare, of: id)
        } catch {
            try? ledger.finish(id, result: .abandoned, failure: "\(error)")
            throw error
        }
        record = try ledger.swap(id) ?? record
        return try swapAndCheck(record)
    }

    /// Takes a prepared swap from its recorded step to the end: swap, check, and swap back
    /// if a deploy's checks fail.
    public func swapAndCheck(_ record: SwapRecord) throws -> Outcome {
        let id = record.id!
        let swap = try diskSwap(record)
        let started = Date()
        do {
            // Interrupted at its checks: the swap itself is done.
            if record.step != .check { try swap.run(record) }
        } catch {
            progress("the swap failed (\(error)); swapping back")
            do {
                try swap.revert(record)
            } catch let revertError {
                try ledger.finish(id, result: .failed, failure: "swap: \(error); swapping back: \(revertError)")
                throw PoolError("\(record.host): the swap failed (\(error)), and so did swapping back: \(revertError)")
            }
            try ledger.finish(id, result: .failed, failure: "swap: \(error)")
            return Outcome(host: record.host, swap: id, result: .failed, failure: "\(error)")
        }
        let swapSeconds = Date().timeIntervalSince(started)
        progress(String(format: "swapped in %.1f s; checking %@ over SSH", swapSeconds, record.host))
        try ledger.intend(.check, of: id)
        FaultInjection.pause(before: .check)
        let health = try check(record)
        try ledger.done(.check, of: id)
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
            try ledger.intend(.finish, of: id)
            try swap.revert(record)
            report += "\n" + (try checkRestored(record))
        }
        try ledger.finish(id, result: .failed, failure: report, swapSeconds: swapSeconds)
        return Outcome(host: record.host, swap: id, result: .failed, failure: report, swapSeconds: swapSeconds)
    }

    /// After a rollback: the checks the restored image passed when it was deployed (none
    /// if the ledger has no such swap: then SSH answering with the host's key is the check).
    func checkRestored(_ record: SwapRecord) throws -> String {
        var restored = record
        restored.checks = try ledger.swaps(of: record.host).first { $0.id != record.id && $0.result == .healthy && $0.digest == record.previousDigest }?
            .checks ?? []
        let health = try check(restored)
        let what = record.previousDigest.map { "its previous image (\($0))" } ?? "its previous disk"
        let line = health.passed ? "rolled back: \(record.host) runs \(what) again, and it passed its checks"
            : "rolled back to \(what), which fails too: \(health.failure!)"
        progress(line)
        return line
    }

    /// The swap of `record`'s machine and pool; the system is first asked over SSH to power
    /// off (or, to be powered off at once, to flush its file systems).
    func diskSwap(_ record: SwapRecord) throws -> DiskSwap {
        var swap = DiskSwap(pool: ImagePusher.pool(for: record.target.pool), machine: try hypervisor(for: record.target.machine!),
                            ledger: ledger, stopTimeout: stopTimeout, progress: progress)
        swap.shutdown = record.target.shutdown
        swap.requestPowerOff = { (try? healthCheck(record, checks: [], bootTimeout: 0).requestPowerOff()) ?? false }
        swap.requestSync = { (try? healthCheck(record, checks: [], bootTimeout: 0).requestSync()) ?? false }
        return swap
    }

    /// The record's checks against the machine, over SSH with the host's stable keys.
    func check(_ record: SwapRecord) throws -> HealthCheck.Outcome {
        try healthCheck(record, checks: record.checks, bootTimeout: bootTimeout).run(progress: { progress("  " + $0) })
    }

    /// SSH to the record's host as root with imagec's deploy key, its stable host keys pinned.
    func healthCheck(_ record: SwapRecord, checks: [Check], bootTimeout: Double) throws -> HealthCheck {
        let (key, _) = try secrets.deployKey()
        let parts = record.ssh.split(separator: ":")
        let knownHosts = try secrets.knownHostsLines(for: record.host, names: [String(parts[0])],
                                                     types: HostIdentity.keyTypes(of: record.host, in: secrets))
        return HealthCheck(hostName: record.host, checks: checks, host: String(parts[0]),
                           port: parts.count > 1 ? Int(parts[1]) ?? 22 : 22, key: key, knownHosts: knownHosts, bootTimeout: bootTimeout)
    }

    /// Finishes an interrupted swap: from its recorded step, then the checks (a deploy that
    /// never got its candidate ready is abandoned: the machine was never touched).
    public func resume(_ record: SwapRecord) throws -> Outcome {
        let id = record.id!
        if record.step == .prepare && !record.stepDone {
            try ledger.finish(id, result: .abandoned, failure: "interrupted before the swap began")
            progress("swap \(id) of \(record.host) was interrupted before touching the machine: abandoned")
            return Outcome(host: record.host, swap: id, result: .abandoned, failure: nil)
        }
        if record.step == .finish {
            // Interrupted while swapping back after failed checks.
            try diskSwap(record).revert(record)
            try ledger.finish(id, result: .failed, failure: record.failure ?? "checks failed (interrupted while rolling back)")
            return Outcome(host: record.host, swap: id, result: .failed, failure: record.failure)
        }
        progress("resuming swap \(id) of \(record.host) at step \(record.step.rawValue)")
        return try swapAndCheck(record)
    }

    /// Reverts an interrupted swap, or swaps `host` back to an earlier image: the one its
    /// current disk replaced, or the one swap `to` put there.
    public func rollback(_ host: String, to target: Int64? = nil) throws -> Outcome {
        if let unfinished = try ledger.unfinished(of: host).last {
            progress("reverting swap \(unfinished.id!) of \(host), interrupted at step \(unfinished.step.rawValue)")
            try diskSwap(unfinished).revert(unfinished)
            try ledger.finish(unfinished.id!, result: .reverted)
            return Outcome(host: host, swap: unfinished.id, result: .reverted)
        }
        guard let latest = try ledger.swaps(of: host).first else { throw PoolError("the ledger has no swap of '\(host)'") }
        let deployment = latest.target
        let pool = ImagePusher.pool(for: deployment.pool)
        let images = try pool.images()
        guard let current = images.first(where: { $0.name == deployment.disk }) else {
            throw PoolError("\(pool.description) has no '\(deployment.disk)'")
        }
        let incoming: PoolImage
        if let target {
            guard let image = images.first(where: { $0.name == "\(deployment.disk)_d\(target)" }) else {
                let generations = images.filter { $0.name.hasPrefix("\(deployment.disk)_d") }.map(\.name)
                throw PoolError("\(host) has no image of swap \(target) (generations: \(generations.isEmpty ? "none" : generations.joined(separator: ", ")))")
            }
            incoming = image
        } else {
            // The disk the current image replaced.
            guard let swap = current.metadata[PoolMetadata.swap].flatMap(Int64.init), let record = try ledger.swap(swap),
                  let image = images.first(where: { $0.name == record.outgoing }) else {
                throw PoolError("\(host)'s disk has no earlier generation in \(pool.description) to roll back to")
            }
            incoming = image
        }
        // The checks the incoming image passed when it was deployed, not the latest ones.
        let deployed = try incoming.metadata[PoolMetadata.swap].flatMap(Int64.init).flatMap { try ledger.swap($0) }
        let record = try ledger.begin(SwapRecord(
            kind: .rollback, host: host, target: deployment, checks: deployed?.checks ?? [], ssh: latest.ssh, volumes: latest.volumes, incoming: incoming.name,
            outgoing: DiskSwap.outgoingName(disk: deployment.disk, current: current), digest: incoming.digest ?? "unknown",
            previousDigest: current.digest, commit: latest.commit, forced: false))
        try ledger.done(.prepare, of: record.id!)
        progress("swap \(record.id!): \(host) back to \(incoming.name) (\(incoming.digest ?? "?"))")
        return try swapAndCheck(record)
    }
}
