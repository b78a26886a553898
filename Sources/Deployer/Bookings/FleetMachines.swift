import BootTest
import DefinitionEvaluation
import Fleet
import Foundation
import Identity
import ImageBuild
import ImageDSL
import ImagecCore
import Pools
import SharedStore
import SwapLedger
import Targets

/// The nightly job's machines, worked as `imagec build`, `imagec test` and `imagec deploy`
/// work them: the store, the test gate, and a ``Rollout`` with the deployment ledger, the
/// drivers and the installer (for bare-metal machines).
public struct FleetMachines: BookedMachines {
    public var store: Store
    public var rollout: Rollout
    /// The network installer's definition file, for bare-metal machines.
    public var installer: String?
    public var objectStore: @Sendable (SharedStore) throws -> any ObjectStore
    /// Options of the boot test (its firmwares, its boot time-out).
    public var testOptions = ImageTester.Options()

    public init(store: Store, rollout: Rollout, installer: String?, objectStore: @escaping @Sendable (SharedStore) throws -> any ObjectStore) {
        self.store = store
        self.rollout = rollout
        self.installer = installer
        self.objectStore = objectStore
    }

    private func definition(_ host: BookedHost, progress: ProgressReporter) throws -> (DefinitionBuild, Evaluation.System) {
        let system = try Evaluation.System(model: host.model)
        let build = try DefinitionBuild(file: host.definition, evaluation: host.evaluation, systems: [system], store: store,
                                        objectStore: objectStore, progress: progress)
        return (build, system)
    }

    public func build(_ host: BookedHost, progress: ProgressReporter) throws -> String {
        let (definition, system) = try definition(host, progress: progress)
        return try definition.build(system, progress: progress).digest.description
    }

    public func test(_ host: BookedHost, progress: ProgressReporter) throws {
        let (definition, system) = try definition(host, progress: progress)
        let result = try definition.build(system, progress: .silent)
        if TestRecord.all(for: result.entry.name, in: store).contains(where: \.passed) {
            progress("\(result.entry.name) passed imagec test before")
            return
        }
        let records = try ImageTester(store: store).test(result, model: host.model, options: testOptions, progress: progress)
        if let failed = records.first(where: { !$0.passed }) {
            throw BookingsError("the booked image failed imagec test (\(failed.firmware)): \(failed.failure ?? "a check failed")", kind: .checkFailed)
        }
    }

    public func deploy(_ hosts: [BookedHost], progress: ProgressReporter) async -> [HostDeployer.Outcome] {
        var results: [HostDeployer.Outcome?] = Array(repeating: nil, count: hosts.count)
        var fresh: [(Int, Rollout.Host)] = []
        var rollout = self.rollout
        rollout.deployer.progress = progress
        for (index, host) in hosts.enumerated() {
            let name = host.model.hostName
            do {
                let (definition, system) = try definition(host, progress: progress)
                let digest = try definition.build(system, progress: .silent).digest.description
                let ledger = rollout.deployer.ledger
                if let unfinished = try ledger.unfinished(of: name).last {
                    guard unfinished.digest == digest else {
                        throw BookingsError("\(name) has an unfinished swap (\(unfinished.id!)) of another image: finish it (imagec deploy --resume) or roll it back first", kind: .refused)
                    }
                    // The swap an interrupted run began: finished, not begun again.
                    var resuming = rollout.deployer
                    resuming.progress = progress.about(name)
                    let deployer = resuming
                    results[index] = try await Rollout.blocking { try deployer.resume(unfinished) }
                    continue
                }
                if let latest = try ledger.swaps(of: name).first, latest.digest == digest, latest.result == .healthy {
                    progress.about(name)("already runs \(digest.prefix(19)) (swap \(latest.id!))")
                    results[index] = HostDeployer.Outcome(host: name, swap: latest.id, result: .healthy)
                    continue
                }
                if host.model.deployment?.isBareMetal == true, rollout.installer == nil, let installer {
                    rollout.installer = try DefinitionBuild(file: installer, system: nil, store: store, objectStore: objectStore, progress: progress)
                }
                fresh.append((index, Rollout.Host(definition: definition, system: system)))
            } catch {
                results[index] = HostDeployer.Outcome(host: name, swap: nil, result: .error, failure: "\(error)")
            }
        }
        do {
            let outcomes = try await rollout.run(fresh.map(\.1))
            for ((index, _), outcome) in zip(fresh, outcomes) { results[index] = outcome }
        } catch {
            // A rollout throws before it deploys anything (a gate, a build, the installer): each
            // host on its own then (unless it was alone), so that one host's error is not the others'.
            let whole = error
            for (index, host) in fresh {
                do {
                    guard fresh.count > 1 else { throw whole }
                    results[index] = try await rollout.run([host])[0]
                } catch {
                    results[index] = HostDeployer.Outcome(host: host.model.hostName, swap: nil, result: .error, failure: "\(error)")
                }
            }
        }
        return results.map { $0! }
    }

    public func connection(_ host: BookedHost, user: String) throws -> BookingMails.Connection {
        let model = host.model
        let address = HostDeployer.sshAddress(of: model)
        var command = "ssh \(user)@\(address)"
        var names = [model.hostName]
        if let colon = address.lastIndex(of: ":"), !address.hasPrefix("["), let port = Int(address[address.index(after: colon)...]) {
            let name = String(address[..<colon])
            command = "ssh -p \(port) \(user)@\(name)"
            names.append("[\(name)]:\(port)")
        } else if address != model.hostName {
            names.append(address)
        }
        let keys = rollout.deployer.secrets
        return BookingMails.Connection(command: command, fingerprints: try keys.fingerprints(for: model.hostName),
                                       knownHosts: try keys.knownHostsLines(for: model.hostName, names: names))
    }
}
