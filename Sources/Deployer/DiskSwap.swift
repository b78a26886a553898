import Builder
import Foundation
import ImageDSL

/// A root-disk swap on one machine: stop it, give its current root disk another name (the
/// outgoing name), give the incoming image the root disk's name, start it. The machine's
/// configuration never changes: it keeps booting from the disk's name.
///
/// Every step is written to the ledger as intended before it is taken, and every step reads
/// the pool to see whether it was already taken, so running a swap again from the step the
/// ledger names finishes it (`--resume`), and ``revert(_:)`` undoes it from any point.
public struct DiskSwap {
    public var pool: any ImagePool
    public var machine: any Hypervisor
    public var ledger: Ledger
    /// Seconds a clean shutdown may take before the machine is powered off.
    public var stopTimeout: Double
    public var progress: (String) -> Void
    /// How the machine is stopped: cleanly, or powered off once its file systems are frozen
    /// (guest agent) or flushed (SSH).
    public var shutdown: Deployment.Shutdown = .clean
    /// Asks the running system to power off before the hypervisor is asked (imagec's own
    /// images: over SSH); whether it accepted.
    public var requestPowerOff: () -> Bool = { false }
    /// Asks the running system to write its file systems' dirty data out (over SSH: `sync`);
    /// whether it did.
    public var requestSync: () -> Bool = { false }

    public init(pool: any ImagePool, machine: any Hypervisor, ledger: Ledger, stopTimeout: Double = 120,
                progress: @escaping (String) -> Void = { _ in }) {
        self.pool = pool
        self.machine = machine
        self.ledger = ledger
        self.stopTimeout = stopTimeout
        self.progress = progress
    }

    /// The name a host's root disk gets when a swap retires it: after the swap that put its
    /// image there (`<disk>_d<id>`, from its `imagec.swap` metadata), or, for a disk imagec
    /// never put there, `<disk>_original`.
    public static func outgoingName(disk: String, current: PoolImage?) -> String {
        if let swap = current?.metadata[PoolMetadata.swap] { return "\(disk)_d\(swap)" }
        return "\(disk)_original"
    }

    /// The snapshot persistent volumes get before swap `id`.
    public static func snapshotName(of id: Int64) -> String { "imagec-swap-\(id)" }

    /// Takes the swap's steps from `stop` to `start`, skipping those already taken.
    ///
    /// A machine being powered off has its disks renamed meanwhile: QEMU may take a while to
    /// exit (closing its disks; libvirt also waits until the process is reaped), and renaming
    /// an image it holds open is safe in both pools (the outgoing image keeps whatever it still
    /// writes). The start step waits for the
    /// power-off, and the ledger records the stop step done when it is.
    public func run(_ record: SwapRecord) throws {
        let id = record.id!
        try ledger.intend(.stop, of: id)
        FaultInjection.pause(before: .stop)
        let poweringOff = try stop()
        defer { _ = try? poweringOff?.wait() }
        func stopped() throws {
            try poweringOff?.wait()
            try ledger.done(.stop, of: id)
        }
        if poweringOff == nil { try stopped() }
        try step(.snapshot, of: id) {
            for volume in record.volumes {
                progress("snapshot \(volume)@\(Self.snapshotName(of: id))")
                try pool.snapshotVolume(volume, as: Self.snapshotName(of: id))
            }
        }
        try step(.retire, of: id) {
            let names = try names()
            if names.contains(record.disk), names.contains(record.incoming), !names.contains(record.outgoing) {
                progress("\(record.disk) → \(record.outgoing)")
                try pool.rename(record.disk, to: record.outgoing)
            }
        }
        try step(.promote, of: id) {
            let names = try names()
            if names.contains(record.incoming), !names.contains(record.disk) {
                progress("\(record.incoming) → \(record.disk)")
                try pool.rename(record.incoming, to: record.disk)
            } else if !names.contains(record.disk) {
                throw PoolError("\(pool.description) has neither '\(record.incoming)' nor '\(record.disk)': swap \(id) cannot go on")
            }
        }
        try step(.start, of: id) {
            if poweringOff != nil { try stopped() }
            progress("starting \(machine.description)")
            try machine.start()
        }
    }

    /// Undoes the swap from wherever it stopped: the machine boots the outgoing image again
    /// under the disk's name, and the incoming image gets its own name back. A machine that
    /// cannot be stopped gets its names back all the same (it still runs the outgoing image,
    /// whatever its name), so a later reboot cannot start the unchecked one.
    public func revert(_ record: SwapRecord) throws {
        var stopFailure: Error?
        do { try stop()?.wait() } catch { stopFailure = error }
        var names = try names()
        if names.contains(record.disk), !names.contains(record.incoming), names.contains(record.outgoing) {
            progress("\(record.disk) → \(record.incoming)")
            try pool.rename(record.disk, to: record.incoming)
            names = try self.names()
        }
        if !names.contains(record.disk), names.contains(record.outgoing) {
            progress("\(record.outgoing) → \(record.disk)")
            try pool.rename(record.outgoing, to: record.disk)
        }
        guard try self.names().contains(record.disk) else {
            throw PoolError("\(pool.description) has no '\(record.disk)' to boot \(machine.description) from")
        }
        if let stopFailure { throw stopFailure }
        progress("starting \(machine.description)")
        try machine.start()
    }

    /// Stops the machine: the system powers itself off if it will, else the hypervisor shuts
    /// it down. With `shutdown: .powerOff`, once its file systems are frozen or flushed, the
    /// hypervisor powers it off in the background: the power-off is returned, to wait for.
    private func stop() throws -> BackgroundWork<Void>? {
        guard try machine.isRunning() else { return nil }
        switch shutdown {
        case .powerOff:
            // The guest agent's freeze is quicker than SSH (no key exchange) and leaves the
            // file systems consistent; SSH's sync where there is no agent.
            let started = Date()
            let flushed = machine.freezeFileSystems() ? "file systems frozen by the guest agent"
                : requestSync() ? "file systems flushed over SSH" : "file systems not flushed"
            progress(String(format: "%@ (%.1f s); powering %@ off", flushed, Date().timeIntervalSince(started), machine.description))
            let machine = machine, progress = progress
            return BackgroundWork {
                try machine.powerOff()
                progress(String(format: "powered off in %.1f s", Date().timeIntervalSince(started)))
            }
        case .clean:
            progress("stopping \(machine.description)")
            if requestPowerOff(), try machine.wait(timeout: stopTimeout, until: { try !machine.isRunning() }) { return nil }
            try machine.stop(timeout: stopTimeout)
            return nil
        }
    }

    private func names() throws -> Set<String> { try pool.imageNames() }

    private func step(_ step: SwapStep, of id: Int64, _ body: () throws -> Void) throws {
        try ledger.intend(step, of: id)
        FaultInjection.pause(before: step)
        try body()
        try ledger.done(step, of: id)
    }
}

/// For tests of interrupted swaps: `IMAGEC_PAUSE_BEFORE=<step>` makes imagec print
/// `paused before <step>` and wait there (the test kills it) once the step's intent is recorded.
enum FaultInjection {
    static func pause(before step: SwapStep) {
        guard ProcessInfo.processInfo.environment["IMAGEC_PAUSE_BEFORE"] == step.rawValue else { return }
        FileHandle.standardError.write(Data("paused before \(step.rawValue)\n".utf8))
        Thread.sleep(forTimeInterval: 600)
    }
}
