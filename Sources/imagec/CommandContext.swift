import Builder
import Deployer
import Foundation

/// What every command shares: how progress is printed, and the library objects made from
/// the environment (`$IMAGEC_STORE`, `$IMAGEC_LEDGER`, `$IMAGEC_SECRETS`) with the real drivers.
struct CommandContext: Sendable {
    /// Prints no progress.
    var quiet = false

    /// Progress lines on standard error, whole lines even from several threads.
    var progress: @Sendable (String) -> Void {
        let quiet = quiet
        return { message in
            if !quiet { Self.standardError.withLock { FileHandle.standardError.write(Data("\(message)\n".utf8)) } }
        }
    }

    private static let standardError = NSLock()

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
        var rollout = Rollout(ledger: try Ledger(), drivers: drivers, progress: progress)
        rollout.bootTimeout = bootTimeout
        rollout.stopTimeout = stopTimeout
        return rollout
    }
}
