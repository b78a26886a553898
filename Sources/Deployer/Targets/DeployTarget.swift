import BootServer
import Foundation
import Identity
import ImagecCore
import ImageDSL
import SwapLedger

/// A machine imagec reinstalls, and how: the steps that put a new image in place, and those
/// that give it its previous one back. ``HostDeployer`` drives a target through a swap —
/// prepare, the target's ``steps``, the checks over SSH, a rollback when they fail — and
/// records each step in the ledger; a target only says how each is done.
///
/// ``DiskSwapTarget`` (a VM's root disk renamed in its pool, the machine stopped and started
/// by its hypervisor) is the first kind. Targets are made by ``DeployDrivers/target(for:host:)``.
public protocol DeployTarget: Sendable {
    /// The machine, for messages and the ledger: `libvirt:qemu:///system test001`.
    var description: String { get }
    /// Where the images are kept, for messages and the ledger: the pool's description.
    var store: String { get }
    /// What the machine boots from (the ledger's `disk`).
    var disk: String { get }
    /// The steps between `prepare` and `check`, in order.
    var steps: [SwapStep] { get }

    /// Fails unless a swap can begin: the machine exists and boots from ``disk``.
    func checkReady() throws

    /// The image the machine boots now; nil when there is none yet.
    func installed() throws -> InstalledImage?

    /// Earlier images kept to roll back to, by name.
    func generations() throws -> [InstalledImage]

    /// The names a swap of `installed` gives its images: what is put in place, and what
    /// the replaced image is kept as.
    func names(replacing installed: InstalledImage?) -> (incoming: String, outgoing: String)

    /// What a swap would do, a line each, for a dry run.
    func plan(replacing installed: InstalledImage?) -> [String]

    /// Makes the incoming image of `swap` ready without touching the machine: stored where
    /// the machine will find it, with the host's identity written in.
    func prepare(_ image: ReadyImage, swap: Int64) throws

    /// Takes the steps from the record's step to the machine running the incoming image;
    /// steps already taken are skipped, so a swap interrupted anywhere is finished by
    /// running it again.
    func install(_ record: SwapRecord, journal: StepJournal, system: any HostAccess) throws

    /// Checks the target runs before the system's own, once the machine answers: that it runs
    /// what the swap installed (a bare-metal machine may have come back on its other slot).
    func checks(for record: SwapRecord) -> [Check]

    /// Makes the incoming image stay once it passed its checks (a bare-metal machine's slot
    /// becomes its boot loader's default). An error here fails the swap: it is rolled back.
    func confirm(_ record: SwapRecord, system: any HostAccess) throws

    /// Undoes the swap from wherever it stopped: the machine runs the outgoing image again,
    /// and the incoming one is kept under its own name.
    func revert(_ record: SwapRecord, journal: StepJournal, system: any HostAccess) throws
}

extension DeployTarget {
    /// None: the machine can only boot the disk the swap put in place.
    public func checks(for record: SwapRecord) -> [Check] { [] }

    /// Nothing to do: the machine boots the incoming image under the disk's name already.
    public func confirm(_ record: SwapRecord, system: any HostAccess) throws {}
}

/// An image a target holds for a host: what it is called there, its digest, and the swap
/// that put it in place (none for an image imagec did not put there).
public struct InstalledImage: Hashable, Sendable {
    public var name: String
    public var digest: String?
    public var swap: Int64?

    public init(name: String, digest: String?, swap: Int64?) {
        self.name = name
        self.digest = digest
        self.swap = swap
    }
}

/// A built image to deploy, with what the target stores beside it.
public struct ReadyImage: Sendable {
    public var host: String
    /// The raw image file and its digest.
    public var file: URL
    public var digest: ImageDigest
    /// Stored with the image (``PoolMetadata`` keys: commit, version, packages).
    public var metadata: [String: String]
    /// The host's SSH host keys and machine ID, written into the image once it is in place.
    public var identity: HostIdentity
    /// The network installer a bare-metal machine boots to write the image (its kernel, its
    /// initramfs, its kernel arguments); nil for other machines.
    public var installer: InstallerBoot?

    public init(host: String, file: URL, digest: ImageDigest, metadata: [String: String], identity: HostIdentity,
                installer: InstallerBoot? = nil) {
        self.host = host
        self.file = file
        self.digest = digest
        self.metadata = metadata
        self.identity = identity
        self.installer = installer
    }
}
