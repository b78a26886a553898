import Foundation
import Hypervisors
import Identity
import ImagecCore
import ImageDSL
import Pools
import SwapLedger

/// A virtual machine reinstalled by a root-disk swap: the image is pushed to the machine's
/// pool and cloned as its candidate disk with the host's identity written in; then the
/// machine is stopped, its root disk renamed to a generation name, the candidate given the
/// disk's name, and the machine started. Its configuration never changes: it keeps booting
/// from the disk's name. The hypervisor (libvirt, Proxmox) and the pool (RBD, a directory)
/// are drivers.
///
/// Every step reads the pool to see whether it was already taken, so running the swap again
/// from the step the ledger names finishes it, and ``revert(_:journal:system:)`` undoes it
/// from any point.
public struct DiskSwapTarget: DeployTarget {
    public var pool: any ImagePool
    public var machine: any Hypervisor
    public var names: DiskNames
    /// The first part of pushed images' names: `<prefix>_<host>_<YYYYMMDDHHMM>`.
    public var prefix: String
    /// How the machine is stopped: cleanly, or powered off once its file systems are frozen
    /// (guest agent) or flushed (SSH).
    public var shutdown: Deployment.Shutdown
    /// Seconds a clean shutdown may take before the machine is powered off.
    public var stopTimeout: Double
    /// Writes a host's identity into a disk of the pool (libguestfs).
    public var writeIdentity: @Sendable (HostIdentity, DiskLocation) throws -> Void
    public var progress: ProgressReporter

    /// The machine is stopped; the persistent volumes that ask for it are snapshotted
    /// (`imagec-swap-<id>`); the root disk gets its generation's name (retire); the candidate
    /// gets the root disk's name (promote); the machine is started.
    public static let stop = SwapStep.stop, snapshot = SwapStep("snapshot"), retire = SwapStep("retire"),
        promote = SwapStep("promote"), start = SwapStep("start")

    public init(pool: any ImagePool, machine: any Hypervisor, disk: String, prefix: String = "imagec",
                shutdown: Deployment.Shutdown = .clean, stopTimeout: Double = 120,
                writeIdentity: @escaping @Sendable (HostIdentity, DiskLocation) throws -> Void,
                progress: ProgressReporter = .silent) {
        self.pool = pool
        self.machine = machine
        self.names = DiskNames(disk: disk)
        self.prefix = prefix
        self.shutdown = shutdown
        self.stopTimeout = stopTimeout
        self.writeIdentity = writeIdentity
        self.progress = progress
    }

    public var description: String { machine.description }
    public var store: String { pool.description }
    public var disk: String { names.disk }
    public var steps: [SwapStep] { [Self.stop, Self.snapshot, Self.retire, Self.promote, Self.start] }

    public func checkReady() throws {
        let disks = try machine.disks()
        guard disks.contains(disk) else {
            throw DeployError("\(machine.description) boots from \(disks.isEmpty ? "no pool disk" : disks.joined(separator: ", ")), not '\(disk)'")
        }
    }

    public func installed() throws -> InstalledImage? {
        try pool.images().first { $0.name == disk }.map(Self.installed)
    }

    public func generations() throws -> [InstalledImage] {
        try pool.images().filter { names.isGeneration($0.name) }.map(Self.installed).sorted { $0.name < $1.name }
    }

    private static func installed(_ image: PoolImage) -> InstalledImage {
        InstalledImage(name: image.name, digest: image.digest, swap: image.metadata[PoolMetadata.swap].flatMap(Int64.init))
    }

    public func names(replacing installed: InstalledImage?) -> (incoming: String, outgoing: String) {
        (names.candidate, names.retired(installedBy: installed?.swap))
    }

    public func plan(replacing installed: InstalledImage?) -> [String] {
        let (incoming, outgoing) = names(replacing: installed)
        return [
            "push and make \(incoming) in \(pool.description)",
            "\(shutdown == .powerOff ? "flush its file systems and power the machine off" : "shut the machine down"); "
                + "\(disk) → \(outgoing); \(incoming) → \(disk); start it",
        ]
    }

    /// Pushes the image (unless the pool holds its digest), then makes the host's candidate:
    /// a clone with the host's identity written in. A candidate left by an earlier deploy
    /// that never swapped it in is replaced.
    public func prepare(_ image: ReadyImage, swap: Int64) throws {
        progress("pushing to \(pool.description)")
        let pusher = ImagePusher(pool: pool)
        let pushed = try pusher.push(image.file, digest: image.digest.description, host: image.host, prefix: prefix, metadata: image.metadata) { _ in }
        progress(pushed.reused ? "\(pushed.image.name) already holds this digest" : "\(pushed.image.name): \(ByteCount(bytes: pushed.bytesWritten).rounded) written")
        progress("writing \(image.host)'s identity into \(names.candidate)")
        _ = try pusher.prepareCandidate(of: pushed.image, host: image.host, disk: disk,
                                        metadata: image.metadata.merging([PoolMetadata.swap: String(swap)]) { $1 }) { location in
            try writeIdentity(image.identity, location)
        }
    }

    /// Takes the steps from `stop` to `start`, skipping those already taken.
    ///
    /// A machine being powered off has its disks renamed meanwhile: QEMU may take a while to
    /// exit (closing its disks; libvirt also waits until the process is reaped), and renaming
    /// an image it holds open is safe in both pools (the outgoing image keeps whatever it still
    /// writes). The start step waits for the power-off, and the stop step is recorded done when
    /// it is.
    public func install(_ record: SwapRecord, journal: StepJournal, system: any HostAccess) throws {
        let id = record.id!
        try journal.intend(Self.stop)
        let poweringOff = try stop(record, system: system)
        defer { _ = try? poweringOff?.wait() }
        func stopped() throws {
            try poweringOff?.wait()
            try journal.done(Self.stop)
        }
        if poweringOff == nil { try stopped() }
        try journal.step(Self.snapshot) {
            for volume in record.volumes {
                progress("snapshot \(volume)@\(DiskNames.volumeSnapshot(before: id))")
                try pool.snapshotVolume(volume, as: DiskNames.volumeSnapshot(before: id))
            }
        }
        try journal.step(Self.retire) {
            let names = try pool.imageNames()
            if names.contains(record.disk), names.contains(record.incoming), !names.contains(record.outgoing) {
                progress("\(record.disk) → \(record.outgoing)")
                try pool.rename(record.disk, to: record.outgoing)
            }
        }
        try journal.step(Self.promote) {
            let names = try pool.imageNames()
            if names.contains(record.incoming), !names.contains(record.disk) {
                progress("\(record.incoming) → \(record.disk)")
                try pool.rename(record.incoming, to: record.disk)
            } else if !names.contains(record.disk) {
                throw DeployError("\(pool.description) has neither '\(record.incoming)' nor '\(record.disk)': swap \(id) cannot go on")
            }
        }
        try journal.step(Self.start) {
            if poweringOff != nil { try stopped() }
            progress("starting \(machine.description)")
            try machine.start()
        }
    }

    /// The machine boots the outgoing image again under the disk's name, and the incoming
    /// image gets its own name back. A machine that cannot be stopped gets its names back all
    /// the same (it still runs the outgoing image, whatever its name), so a later reboot
    /// cannot start the unchecked one.
    public func revert(_ record: SwapRecord, journal: StepJournal, system: any HostAccess) throws {
        var stopFailure: Error?
        do { try stop(record, system: system)?.wait() } catch { stopFailure = error }
        var names = try pool.imageNames()
        if names.contains(record.disk), !names.contains(record.incoming), names.contains(record.outgoing) {
            progress("\(record.disk) → \(record.incoming)")
            try pool.rename(record.disk, to: record.incoming)
            names = try pool.imageNames()
        }
        if !names.contains(record.disk), names.contains(record.outgoing) {
            progress("\(record.outgoing) → \(record.disk)")
            try pool.rename(record.outgoing, to: record.disk)
        }
        guard try pool.imageNames().contains(record.disk) else {
            throw DeployError("\(pool.description) has no '\(record.disk)' to boot \(machine.description) from")
        }
        if let stopFailure { throw stopFailure }
        progress("starting \(machine.description)")
        try machine.start()
    }

    /// Stops the machine: the system powers itself off if it will, else the hypervisor shuts
    /// it down. With `shutdown: .powerOff`, once its file systems are frozen or flushed, the
    /// hypervisor powers it off in the background: the power-off is returned, to wait for.
    private func stop(_ record: SwapRecord, system: any HostAccess) throws -> BackgroundWork<Void>? {
        guard try machine.isRunning() else { return nil }
        switch shutdown {
        case .powerOff:
            // The guest agent's freeze is quicker than SSH (no key exchange) and leaves the
            // file systems consistent; SSH's sync where there is no agent.
            let started = Date()
            let flushed = machine.freezeFileSystems() ? "file systems frozen by the guest agent"
                : system.requestSync(record) ? "file systems flushed over SSH" : "file systems not flushed"
            progress(String(format: "%@ (%.1f s); powering %@ off", flushed, Date().timeIntervalSince(started), machine.description))
            let machine = machine, progress = progress
            return BackgroundWork {
                try machine.powerOff()
                progress(String(format: "powered off in %.1f s", Date().timeIntervalSince(started)))
            }
        case .clean:
            progress("stopping \(machine.description)")
            if system.requestPowerOff(record), try machine.wait(timeout: stopTimeout, until: { try !machine.isRunning() }) { return nil }
            try machine.stop(timeout: stopTimeout)
            return nil
        }
    }
}
