@testable import Checks
import Foundation
@testable import Hypervisors
@testable import Identity
@testable import ImagecCore
import ImageDSL
@testable import Pools
@testable import SwapLedger
@testable import Targets

/// An image pool in memory: images by name, with their metadata and content (a digest).
/// Its whole state can be read and put back, as a crash leaves it.
final class FakePool: ImagePool, @unchecked Sendable {
    struct State: Equatable {
        var images: [String: PoolImage] = [:]
        var snapshots: [String: Set<String>] = [:]
    }

    private let lock = NSLock()
    private var _state = State()
    /// Runs during each push (a crash there leaves the swap at `prepare`).
    var duringPush: () -> Void = {}
    /// Names whose rename fails, as a pool that stops answering would.
    var failingRenames: Set<String> = []
    /// Runs after each rename (a crash there: the step taken, not yet recorded done).
    var afterRename: () -> Void = {}

    var state: State {
        get { lock.withLock { _state } }
        set { lock.withLock { _state = newValue } }
    }

    let description = "fake:pool"

    func images() throws -> [PoolImage] { state.images.values.sorted { $0.name < $1.name } }

    func push(_ request: PushRequest, progress: @escaping (PushProgress) -> Void) throws -> PushResult {
        duringPush()
        if let existing = state.images.values.first(where: { $0.isBase && $0.digest == request.digest }) {
            return PushResult(image: existing, reused: true, bytesWritten: 0, seconds: 0)
        }
        var metadata = request.metadata
        metadata[PoolMetadata.digest] = request.digest
        metadata[PoolMetadata.role] = "base"
        let image = PoolImage(name: request.name, size: 1 << 30, used: 1 << 20, parent: nil, metadata: metadata)
        state.images[request.name] = image
        return PushResult(image: image, reused: false, bytesWritten: 1 << 20, seconds: 0)
    }

    func clone(_ base: PoolImage, as name: String, metadata: [String: String], prepare: (DiskLocation) throws -> Void) throws -> PoolImage {
        guard state.images[name] == nil else { throw PoolError("\(name) exists") }
        try prepare(location(of: ".tmp-" + name))
        var tags = metadata
        tags[PoolMetadata.digest] = base.digest
        tags[PoolMetadata.role] = "host"
        let image = PoolImage(name: name, size: base.size, used: 0, parent: base.name, metadata: tags)
        state.images[name] = image
        return image
    }

    func rename(_ name: String, to newName: String) throws {
        if failingRenames.contains(name) { throw PoolError("the pool did not answer renaming \(name)") }
        try lock.withLock {
            guard var image = _state.images[name] else { throw PoolError("no image \(name)") }
            guard _state.images[newName] == nil else { throw PoolError("\(newName) exists") }
            _state.images[name] = nil
            image.name = newName
            _state.images[newName] = image
        }
        afterRename()
    }

    func snapshotVolume(_ name: String, as snapshot: String) throws {
        guard state.images[name] != nil else { throw PoolError("no volume \(name)") }
        state.snapshots[name, default: []].insert(snapshot)
    }

    func location(of name: String) -> DiskLocation { .file(path: "/fake/\(name)", format: "raw") }

    func remove(_ name: String) throws {
        guard state.images.removeValue(forKey: name) != nil else { throw PoolError("no image \(name)") }
    }

    func leftovers() throws -> [String] { [] }
    func removeLeftover(_ name: String) throws {}
    func export(_ name: String, to file: URL) throws {}
    func attach(_ data: Data, as suffix: String, to name: String) throws {}
    func attachment(_ suffix: String, of name: String) throws -> Data? { nil }
}

/// A machine booting from one disk of a ``FakePool``: what it runs is the digest under the
/// disk's name when it was started.
final class FakeMachine: Hypervisor, @unchecked Sendable {
    struct State: Equatable {
        var running = false
        /// The digest it booted, while running.
        var runs: String?
        var starts = 0
    }

    let pool: FakePool
    let disk: String
    let description: String
    /// Whether a guest agent freezes its file systems.
    var agent = true
    private let lock = NSLock()
    private var _state = State()

    var state: State {
        get { lock.withLock { _state } }
        set { lock.withLock { _state = newValue } }
    }

    init(name: String, pool: FakePool, disk: String) {
        self.pool = pool
        self.disk = disk
        description = "fake:\(name)"
    }

    func isRunning() throws -> Bool { state.running }
    func stop(timeout: Double) throws { state.running = false; state.runs = nil }
    func powerOff() throws { state.running = false; state.runs = nil }
    func freezeFileSystems() -> Bool { agent && state.running }

    func start() throws {
        guard let image = pool.state.images[disk] else { throw HypervisorError("\(description) has no disk \(disk) to boot from") }
        state = State(running: true, runs: image.digest, starts: state.starts + 1)
    }

    func disks() throws -> [String] { [disk] }
}

/// The running systems of fake machines: a system powers itself off when asked, and its
/// checks pass unless it runs one of the ``broken`` digests.
final class FakeAccess: HostAccess, @unchecked Sendable {
    let machines: [String: FakeMachine]
    var broken: Set<String> = []
    private(set) var checked: [(host: String, checks: [String])] = []
    /// Seconds each check takes, and the most checks that ran at once.
    var checkSeconds = 0.0
    /// Until two checks have overlapped, a check waits up to this long for another one to start
    /// (a loaded machine may otherwise run short checks one after the other by chance).
    var waitForCompany = 0.0
    private(set) var mostAtOnce = 0
    private var running = 0
    private let lock = NSLock()

    init(machines: [String: FakeMachine]) {
        self.machines = machines
    }

    func requestPowerOff(_ record: SwapRecord) -> Bool {
        guard let machine = machines[record.host], machine.state.running else { return false }
        try? machine.powerOff()
        return true
    }

    func requestSync(_ record: SwapRecord) -> Bool { machines[record.host]?.state.running == true }

    func check(_ record: SwapRecord, checks: [Check], bootTimeout: Double, progress: ProgressReporter) throws -> HealthCheck.Outcome {
        lock.withLock {
            checked.append((record.host, checks.map(\.name)))
            running += 1
            mostAtOnce = max(mostAtOnce, running)
        }
        let deadline = Date().addingTimeInterval(waitForCompany)
        while lock.withLock({ mostAtOnce < 2 }), Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        Thread.sleep(forTimeInterval: checkSeconds)
        lock.withLock { running -= 1 }
        guard let machine = machines[record.host], machine.state.running, let runs = machine.state.runs else {
            return HealthCheck.Outcome(checks: [], failure: "SSH at \(record.ssh) did not answer within \(Int(bootTimeout)) s")
        }
        if broken.contains(runs) { return HealthCheck.Outcome(checks: [], failure: "check 'never' failed:\n    (runs \(runs))") }
        return HealthCheck.Outcome(checks: [], failure: nil)
    }

    /// The fake machines run no shell.
    func run(_ record: SwapRecord, script: String, timeout: Double) throws -> (status: Int32, output: String) {
        (127, "the fake machine \(record.host) has no shell")
    }
}

/// Hosts on fake machines and a fake pool, a real ledger in a temporary folder, and the
/// drivers that reach them.
struct FakeFleet {
    let folder: URL
    let pool = FakePool()
    let machines: [String: FakeMachine]
    let access: FakeAccess
    let ledger: Ledger

    init(hosts: [String], folder: URL) throws {
        self.folder = folder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var machines: [String: FakeMachine] = [:]
        for host in hosts { machines[host] = FakeMachine(name: host, pool: pool, disk: "\(host)-root") }
        self.machines = machines
        access = FakeAccess(machines: machines)
        ledger = try Ledger(path: folder.appendingPathComponent("ledger.sqlite"))
    }

    var drivers: DeployDrivers {
        let pool = pool, machines = machines
        return DeployDrivers(
            pool: { _ in pool },
            hypervisor: { machine in
                guard case .libvirt(let domain, _) = machine, let fake = machines[domain] else { throw PoolError("no machine \(machine)") }
                return fake
            },
            writeIdentity: { _, _ in },
            access: access)
    }

    var secrets: HostKeys { HostKeys(directory: folder.appendingPathComponent("secrets")) }

    func deployer(progress: ProgressReporter = .silent, beforeStep: @escaping @Sendable (SwapStep) -> Void = { _ in }) -> HostDeployer {
        var deployer = HostDeployer(ledger: ledger, drivers: drivers, secrets: secrets, progress: progress)
        deployer.beforeStep = beforeStep
        deployer.bootTimeout = 1
        return deployer
    }

    /// A system of `host` deployed to its fake machine: stopped cleanly, with a persistent volume snapshotted before each swap; or powered off
    /// (which a volume forbids).
    static func model(_ host: String, shutdown: Deployment.Shutdown = .clean) -> SystemModel {
        let system = shutdown == .powerOff
            ? OperatingSystem {
                HostName(host)
                Deployment(to: .local("/fake"), disk: "\(host)-root", machine: .libvirt(host), ssh: "127.0.0.1:1", shutdown: .powerOff)
                Check.command("true", name: "works")
            }
            : OperatingSystem {
                HostName(host)
                Disk {
                    PersistentVolume("data", mountPoint: "/data", size: .gibibytes(1), fileSystem: .xfs, snapshotBeforeDeploy: true)
                }
                Deployment(to: .local("/fake"), disk: "\(host)-root", machine: .libvirt(host), ssh: "127.0.0.1:1",
                           volumes: ["data": "\(host)-data"])
                Check.command("true", name: "works")
            }
        let (model, diagnostics) = system.resolve()
        precondition(model != nil, "\(diagnostics)")
        return model!
    }

    func request(_ host: String, digest: String, model: SystemModel? = nil, forced: Bool = false) -> HostDeployer.Request {
        HostDeployer.Request(model: model ?? Self.model(host), image: folder.appendingPathComponent("\(digest).raw"),
                             digest: ImageDigest(hex: String(digest.dropFirst("sha256:".count))),
                             provenance: Provenance(commit: "abc", version: "test", packages: "p-\(host)"), forced: forced)
    }

    /// Everything a crash leaves behind: the pool, the machines and a copy of the ledger.
    struct Snapshot {
        var pool: FakePool.State
        var machines: [String: FakeMachine.State]
        var ledger: URL
    }

    func snapshot(named name: String) throws -> Snapshot {
        let copy = folder.appendingPathComponent("ledger-\(name).sqlite")
        try? FileManager.default.removeItem(at: copy)
        try FileManager.default.copyItem(at: ledger.path, to: copy)
        return Snapshot(pool: pool.state, machines: machines.mapValues(\.state), ledger: copy)
    }

    /// A fleet in the state of `snapshot` (a process started after the crash).
    func restored(_ snapshot: Snapshot, as name: String) throws -> FakeFleet {
        let folder = self.folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: snapshot.ledger, to: folder.appendingPathComponent("ledger.sqlite"))
        let fleet = try FakeFleet(hosts: Array(machines.keys), folder: folder)
        fleet.pool.state = snapshot.pool
        for (host, state) in snapshot.machines { fleet.machines[host]!.state = state }
        fleet.access.broken = access.broken
        try? FileManager.default.removeItem(at: fleet.secretsFolder)
        try FileManager.default.copyItem(at: secretsFolder, to: fleet.secretsFolder)
        return fleet
    }

    var secretsFolder: URL { folder.appendingPathComponent("secrets") }
}
