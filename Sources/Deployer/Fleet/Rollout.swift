import BootServer
import BootTest
import DefinitionEvaluation
import Foundation
import ImageBuild
import ImagecCore
import ImageDSL
import Pools
import SwapLedger
import Targets

/// `imagec deploy` as a library call, for the command line, the nightly booking job and a
/// status page alike: the hosts of some definitions planned, each image built and held to
/// the test gate, then the hosts deployed at most ``jobs`` at once, each ending with an
/// outcome (one host's failure does not stop the others).
public struct Rollout: Sendable {
    /// How each host is deployed: the ledger, the drivers, the timeouts, the progress (each
    /// host's events about it once hosts are deployed side by side).
    public var deployer: HostDeployer
    /// Hosts deployed at once.
    public var jobs = 4
    /// Deploy images that have not passed `imagec test` (each swap is recorded as forced).
    public var force = false
    /// The network installer's definition, which bare-metal machines boot to be reinstalled
    /// (built like any system, as a kernel and an initramfs).
    public var installer: DefinitionBuild?

    public init(deployer: HostDeployer) {
        self.deployer = deployer
    }

    private var ledger: Ledger { deployer.ledger }
    private var progress: ProgressReporter { deployer.progress }

    /// A host to deploy: its system, from which definition.
    public struct Host: Sendable {
        public var definition: DefinitionBuild
        public var system: Evaluation.System
        public var model: SystemModel { system.model }

        public init(definition: DefinitionBuild, system: Evaluation.System) {
            self.definition = definition
            self.system = system
        }
    }

    /// What a deploy of one host would do, for a dry run.
    public struct Plan: Codable, Sendable {
        public var host: String
        public var machine: String
        /// The target's steps, a line each.
        public var steps: [String]
        /// Where the checks reach the system, and their names.
        public var ssh: String
        public var checks: [String]

        /// The plan as lines of text.
        public var text: String {
            (["\(host): \(machine)"] + steps.map { "  " + $0 } + ["  check over SSH at \(ssh): \(checks.joined(separator: ", "))"])
                .joined(separator: "\n")
        }
    }

    /// The hosts of `definitions`; a system whose Deployment names no machine is an error at its line.
    public static func hosts(of definitions: [DefinitionBuild]) throws -> [Host] {
        try definitions.flatMap { definition in
            try definition.systems.map { system in
                guard let deployment = system.model.deployment, deployment.machine != nil else {
                    throw DefinitionError(.invalid, [Diagnostic(
                        "system '\(system.model.hostName)' has no Deployment(to:disk:machine:): imagec deploy does not know its machine",
                        at: system.model.location(of: system.model.deployment == nil ? "system" : "deployment"))])
                }
                return Host(definition: definition, system: system)
            }
        }
    }

    private func deployer(progress: ProgressReporter) -> HostDeployer {
        var deployer = deployer
        deployer.progress = progress
        return deployer
    }

    /// What deploying the systems `models` would do; reads the pools, changes nothing.
    public func plan(_ models: [SystemModel]) throws -> [Plan] {
        try models.map { model in
            guard let deployment = model.deployment else { throw DeployError("\(model.hostName) has no Deployment: imagec deploy does not know its machine", kind: .usage) }
            let target = try deployer(progress: .silent).target(for: deployment, host: model.hostName)
            return Plan(host: model.hostName, machine: target.description, steps: target.plan(replacing: try target.installed()),
                        ssh: HostDeployer.sshAddress(of: model), checks: (model.checks ?? []).map(\.name))
        }
    }

    /// Whether the store entry `entry` (`<digest>-<host>`) may be deployed: it must have
    /// passed `imagec test`, unless ``force``. Returns whether it is deployed by force.
    public func gate(entry: String, of host: String, in store: Store) throws -> Bool {
        if TestRecord.all(for: entry, in: store).contains(where: \.passed) { return false }
        guard force else {
            throw DeployRefused.untested(host: host, image: String(entry.prefix(12)), status: TestRecord.status(of: entry, in: store))
        }
        return true
    }

    /// Refuses hosts whose last swap never finished: they are resumed or rolled back first.
    public func refuseUnfinished(_ hosts: [Host]) throws {
        for host in hosts {
            if let unfinished = try ledger.unfinished(of: host.model.hostName).first {
                throw DeployRefused.unfinished(host: host.model.hostName, swap: unfinished.id!, step: unfinished.step)
            }
        }
    }

    /// Builds and gates every host first, one at a time (builds share the store), then deploys
    /// them; the outcomes are in the order of `hosts`.
    public func run(_ hosts: [Host]) async throws -> [HostDeployer.Outcome] {
        try refuseUnfinished(hosts)
        var requests: [HostDeployer.Request] = []
        var installerBoot: InstallerBoot?
        for host in hosts {
            let built = try host.definition.build(host.system, progress: progress)
            let forced = try gate(entry: built.entry.name, of: host.model.hostName, in: host.definition.builder.store)
            let set = try host.definition.lock.set(for: host.model, lockFile: host.definition.lockFile)
            if host.model.deployment?.isBareMetal == true, installerBoot == nil { installerBoot = try buildInstaller() }
            requests.append(HostDeployer.Request(
                model: host.model, image: built.image, digest: built.digest,
                provenance: try Provenance(definitions: host.definition.file, version: Imagec.version, set: set), forced: forced,
                installer: host.model.deployment?.isBareMetal == true ? installerBoot : nil))
        }
        return await deploy(requests)
    }

    /// Builds the network installer (cached like any image): its kernel, initramfs and arguments.
    func buildInstaller() throws -> InstallerBoot {
        guard let installer, let system = installer.systems.first else {
            throw DeployError("a bare-metal machine is deployed through the network installer: name its definition (--installer FILE)", kind: .usage)
        }
        guard system.model.format == .initramfs else {
            throw DeployError("\(installer.file): the installer '\(system.model.hostName)' is not built as an initramfs (ImageFormat.initramfs)", kind: .usage)
        }
        let built = try installer.build(system, progress: progress)
        return InstallerBoot(kernel: built.entry.kernel.path, initramfs: built.entry.initramfs.path,
                             arguments: system.model.kernelArguments)
    }

    /// Deploys built images, at most ``jobs`` hosts at once; an error of one host is its
    /// outcome (`error`), and the others go on.
    public func deploy(_ requests: [HostDeployer.Request]) async -> [HostDeployer.Outcome] {
        await Self.map(requests, limit: jobs) { request in
            let host = request.model.hostName
            let progress = progress
            do {
                return try deployer(progress: progress.about(host)).deploy(request)
            } catch {
                progress.about(host)("error: \(error)")
                return HostDeployer.Outcome(host: host, swap: nil, result: .error, failure: "\(error)")
            }
        }
    }

    /// Finishes every swap an interrupted deploy left, oldest first.
    public func resume() async throws -> [HostDeployer.Outcome] {
        let unfinished = try ledger.unfinished()
        if unfinished.isEmpty { progress("no unfinished swap in \(ledger.path.path)") }
        var outcomes: [HostDeployer.Outcome] = []
        for record in unfinished { outcomes.append(try await Self.blocking { try deployer(progress: progress).resume(record) }) }
        return outcomes
    }

    /// `transform` of each element, at most `limit` at once, each on a thread of its own (they
    /// wait on machines and SSH, which Swift's cooperative threads must not), in order.
    static func map<Element: Sendable, Result: Sendable>(
        _ elements: [Element], limit: Int, _ transform: @escaping @Sendable (Element) -> Result
    ) async -> [Result] {
        await withTaskGroup(of: (Int, Result).self) { group in
            var results = [Result?](repeating: nil, count: elements.count)
            for (index, element) in elements.enumerated() {
                if index >= limit, let (done, result) = await group.next() { results[done] = result }
                group.addTask { (index, await blocking { transform(element) }) }
            }
            for await (done, result) in group { results[done] = result }
            return results.map { $0! }
        }
    }

    /// Runs blocking work on a thread of Dispatch's and awaits its result.
    public static func blocking<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Swift.Result { try work() }) }
        }
    }

    static func blocking<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }
}
