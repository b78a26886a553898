import ArgumentParser
import BootTest
import Fleet
import Foundation
import ImageBuild
import ImagecCore
import Pools
import SwapLedger
import Targets

/// What every command shares: how progress is printed, and the library objects made from
/// the environment (`$IMAGEC_STORE`, `$IMAGEC_LEDGER`, `$IMAGEC_SECRETS`) with the real drivers.
struct CommandContext: Sendable {
    /// Prints no progress.
    var quiet = false
    var format = ProgressOptions.Format.text

    /// Progress on standard error, as text or JSON lines, whole lines even from several threads.
    var progress: ProgressReporter {
        if quiet { return .silent }
        switch format {
        case .text:
            return .lines { Self.write($0) }
        case .json:
            return ProgressReporter { event in
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                encoder.dateEncodingStrategy = .iso8601
                Self.write((try? String(decoding: encoder.encode(event), as: UTF8.self)) ?? "{}")
            }
        }
    }

    private static let standardError = NSLock()

    private static func write(_ line: String) {
        standardError.withLock { FileHandle.standardError.write(Data("\(line)\n".utf8)) }
    }

    /// A definition evaluated (its warnings printed), its lock read or written, its packages
    /// fetched unless `fetchingPackages` is false.
    func definition(_ file: String, system: String? = nil, fetchingPackages: Bool = true) throws -> DefinitionBuild {
        let definition = try DefinitionBuild(file: file, system: system, fetchingPackages: fetchingPackages,
                                             objectStore: { try RADOSObjectStore($0) }, progress: progress)
        definition.diagnostics.forEach(Report.print)
        return definition
    }

    /// The real drivers; libguestfs runs under TCG unless the store's KVM probe says KVM works
    /// (no store: no appliance will run, no probe).
    func drivers(probing store: Store? = nil) throws -> DeployDrivers {
        let accelerator = try store.map { try Accelerator.forAppliance(store: $0).0 } ?? .tcg
        return DeployDrivers.standard(emulate: accelerator == .tcg)
    }

    /// A rollout with the command's timeouts.
    func rollout(drivers: DeployDrivers, bootTimeout: Double, stopTimeout: Double) throws -> Rollout {
        var deployer = HostDeployer(ledger: try Ledger(), drivers: drivers, progress: progress)
        deployer.bootTimeout = bootTimeout
        deployer.stopTimeout = stopTimeout
        return Rollout(deployer: deployer)
    }
}

/// How long work shows its progress: `-q`, `--progress text|json`.
struct ProgressOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, Sendable { case text, json }

    @Flag(name: .shortAndLong, help: "Print no progress.")
    var quiet = false

    @Option(name: .long, help: "ProgressReporter as lines of text, or as JSON lines (one event each) for scripts.")
    var progress = Format.text

    var context: CommandContext { CommandContext(quiet: quiet, format: progress) }
}
