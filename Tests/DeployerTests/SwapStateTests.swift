import Foundation
@testable import ImagecCore
import ImageDSL
@testable import Pools
@testable import SwapLedger
@testable import Targets
import Testing

/// The swap's state machine on fake machines and a fake pool, in milliseconds: every step of
/// a deploy interrupted (the world as a crash would leave it), then resumed or rolled back;
/// failed checks, failed steps, rollbacks. The real drivers are tested end to end in
/// `SwapTests` and `DeployTests`.
@Suite struct SwapStateTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-state-\(UUID().uuidString.prefix(8))")

    /// node1 with its data volume, deployed once: it runs `sha256:a` (swap 1).
    func deployedFleet() throws -> FakeFleet {
        let fleet = try FakeFleet(hosts: ["node1"], folder: folder)
        fleet.pool.state.images["node1-data"] = PoolImage(name: "node1-data", size: 1 << 30, used: 0, parent: nil, metadata: [:])
        let first = try fleet.deployer().deploy(fleet.request("node1", digest: "sha256:a"))
        #expect(first.result == .healthy && first.swap == 1, "\(first)")
        #expect(fleet.machines["node1"]!.state.runs == "sha256:a")
        return fleet
    }

    /// What must hold whatever happened: node1 runs the image under its disk's name, the
    /// other images are kept under names of their own (`keeps`: name → digest), and no swap
    /// is left unfinished.
    func expectSettled(_ fleet: FakeFleet, runs digest: String, keeps: [String: String], _ comment: String) throws {
        let machine = fleet.machines["node1"]!
        #expect(machine.state.running && machine.state.runs == digest, "\(comment): \(machine.state)")
        let images = fleet.pool.state.images
        #expect(images["node1-root"]?.digest == digest, "\(comment): \(images.keys.sorted())")
        for (name, kept) in keeps {
            #expect(images[name]?.digest == kept, "\(comment): \(name) is not \(kept): \(images.keys.sorted())")
        }
        #expect(try fleet.ledger.unfinished().isEmpty, "\(comment)")
    }

    @Test func deployRedeployAndRollBack() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let fleet = try deployedFleet()
        let events = Events()
        let deployer = fleet.deployer(progress: ProgressReporter { events.append($0) })
        let second = try deployer.deploy(fleet.request("node1", digest: "sha256:b"))
        #expect(second.result == .healthy, "\(second)")
        // Each step of the swap, then the check, as a step event with its duration.
        let steps = events.all.compactMap { event -> String? in
            switch event.kind {
            case .stepStarted(let step): "\(step)…"
            case .stepFinished(let step, let seconds): seconds >= 0 ? step : nil
            default: nil
            }
        }
        #expect(steps == ["prepare…", "prepare", "stop…", "stop", "snapshot…", "snapshot", "retire…", "retire", "promote…", "promote",
                          "start…", "start", "check…", "check"], "\(steps)")
        try expectSettled(fleet, runs: "sha256:b", keeps: ["node1-root_d1": "sha256:a"], "after swap 2")
        #expect(fleet.pool.state.snapshots["node1-data"] == ["imagec-swap-1", "imagec-swap-2"])
        #expect(try fleet.ledger.swap(2)?.outgoing == "node1-root_d1" && fleet.ledger.swap(2)?.previousDigest == "sha256:a")

        // A broken image: its checks fail, and it is swapped back by itself.
        fleet.access.broken = ["sha256:c"]
        let broken = try deployer.deploy(fleet.request("node1", digest: "sha256:c"))
        #expect(broken.result == .failed && broken.failure?.contains("check 'never' failed") == true
                && broken.failure?.contains("runs its previous image (sha256:b) again, and it passed its checks") == true, "\(broken)")
        try expectSettled(fleet, runs: "sha256:b", keeps: ["node1-root_d1": "sha256:a", "node1-root_candidate": "sha256:c"],
                         "after the broken swap 3")
        // The restored image is checked with the checks it passed when it was deployed.
        #expect(fleet.access.checked.last?.checks == (try fleet.ledger.swap(2)?.checks.map(\.name)))

        // Back to the image swap 2 replaced, then forward again to swap 2's.
        let back = try deployer.rollback("node1")
        #expect(back.result == .healthy, "\(back)")
        try #require(fleet.machines["node1"]!.state.runs == "sha256:a")
        #expect(fleet.pool.state.images["node1-root_d2"]?.digest == "sha256:b")
        let forward = try deployer.rollback("node1", to: 2)
        #expect(forward.result == .healthy && fleet.machines["node1"]!.state.runs == "sha256:b", "\(forward)")
        // A swap or a host the ledger does not have is a usage error (exit status 2).
        let unknownSwap = #expect(throws: DeployError.self) { try deployer.rollback("node1", to: 99) }
        let unknownHost = #expect(throws: DeployError.self) { try deployer.rollback("node9") }
        #expect(unknownSwap?.failureKind == .usage && unknownHost?.failureKind == .usage)
        #expect(try fleet.ledger.swaps().map(\.kind) == [.rollback, .rollback, .deploy, .deploy, .deploy])
    }

    /// Interrupted before each step, and after each step's change before it was recorded done;
    /// then `deploy --resume` finishes it, or `rollback` undoes it.
    @Test(arguments: [false, true]) func interruptedAnywhereThenResumedOrRolledBack(brokenImage: Bool) throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let fleet = try deployedFleet()
        let incoming = brokenImage ? "sha256:c" : "sha256:b"
        if brokenImage { fleet.access.broken = [incoming] }
        let crashes = Crashes(fleet: fleet)
        fleet.pool.duringPush = { crashes.record("during the push") }
        fleet.pool.afterRename = { crashes.record("after a rename") }
        let outcome = try fleet.deployer(beforeStep: { crashes.record("before \($0)") }).deploy(fleet.request("node1", digest: incoming))
        #expect(outcome.result == (brokenImage ? .failed : .healthy), "\(outcome)")
        let steps = crashes.points.filter { $0.hasPrefix("before ") }.map { String($0.dropFirst(7)) }
        #expect(steps == ["stop", "snapshot", "retire", "promote", "start", "check"] + (brokenImage ? ["finish"] : []), "\(steps)")

        for (index, (point, snapshot)) in crashes.snapshots.enumerated() {
            let resumed = try fleet.restored(snapshot, as: "resumed-\(index)")
            let unfinished = try #require(try resumed.ledger.unfinished().first, "\(point)")
            let finished = try resumed.deployer().resume(unfinished)
            let abandoned = point == "during the push"
            let expected = abandoned || brokenImage ? "sha256:a" : incoming
            #expect(finished.result == (abandoned ? .abandoned : brokenImage ? .failed : .healthy), "\(point): \(finished)")
            try expectSettled(resumed, runs: expected, keeps: abandoned ? [:] : expected == incoming ? ["node1-root_d1": "sha256:a"]
                                : ["node1-root_candidate": incoming], "interrupted \(point), resumed")

            let undone = try fleet.restored(snapshot, as: "undone-\(index)")
            let reverted = try undone.deployer().rollback("node1")
            #expect(reverted.result == .reverted, "\(point): \(reverted)")
            try expectSettled(undone, runs: "sha256:a", keeps: abandoned ? [:] : ["node1-root_candidate": incoming],
                              "interrupted \(point), rolled back")
        }
        #expect(crashes.snapshots.count >= 9)
    }

    @Test func aFailedStepIsSwappedBack() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let fleet = try deployedFleet()
        fleet.pool.failingRenames = ["node1-root_candidate"]
        let outcome = try fleet.deployer().deploy(fleet.request("node1", digest: "sha256:b"))
        #expect(outcome.result == .failed && outcome.failure?.contains("did not answer renaming node1-root_candidate") == true, "\(outcome)")
        try expectSettled(fleet, runs: "sha256:a", keeps: ["node1-root_candidate": "sha256:b"], "after a failed promote")
        #expect(try fleet.ledger.swap(2)?.result == .failed)
    }

    @Test func anUnfinishedSwapStopsTheNextDeploy() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let fleet = try deployedFleet()
        let crashes = Crashes(fleet: fleet)
        _ = try fleet.deployer(beforeStep: { crashes.record("before \($0)") }).deploy(fleet.request("node1", digest: "sha256:b"))
        let (_, atRetire) = try #require(crashes.snapshots.first { $0.0 == "before retire" })
        let crashed = try fleet.restored(atRetire, as: "crashed")
        #expect { try crashed.deployer().deploy(crashed.request("node1", digest: "sha256:c")) } throws: {
            "\($0)".contains("swap 2 of node1 never finished (at step retire)")
        }
        #expect(crashed.pool.state.images["node1-root_candidate"]?.digest == "sha256:b", "nothing was pushed or replaced")
    }

    @Test func poweredOffWithTheGuestAgentOrSSH() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let fleet = try FakeFleet(hosts: ["node1"], folder: folder)
        let model = FakeFleet.model("node1", shutdown: .powerOff)
        let lines = ProgressLines()
        var deployer = fleet.deployer()
        deployer.progress = .lines(lines.append)
        for (digest, agent) in [("sha256:a", true), ("sha256:b", true), ("sha256:c", false)] {
            fleet.machines["node1"]!.agent = agent
            let outcome = try deployer.deploy(fleet.request("node1", digest: digest, model: model))
            #expect(outcome.result == .healthy && fleet.machines["node1"]!.state.runs == digest, "\(outcome)")
        }
        #expect(lines.all.contains { $0.hasPrefix("file systems frozen by the guest agent") }, "\(lines.all)")
        #expect(lines.all.contains { $0.hasPrefix("file systems flushed over SSH") }, "\(lines.all)")
    }
}

/// Snapshots of a fake fleet at each point a crash could happen.
final class Crashes: @unchecked Sendable {
    let fleet: FakeFleet
    private let lock = NSLock()
    private(set) var snapshots: [(String, FakeFleet.Snapshot)] = []
    var points: [String] { lock.withLock { snapshots.map(\.0) } }

    init(fleet: FakeFleet) {
        self.fleet = fleet
    }

    func record(_ point: String) {
        let snapshot = try! fleet.snapshot(named: "crash-\(snapshots.count)")
        lock.withLock { snapshots.append((point, snapshot)) }
    }
}

/// Progress lines, collected.
final class ProgressLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var all: [String] { lock.withLock { lines } }
    @Sendable func append(_ line: String) { lock.withLock { lines.append(line) } }
}

/// The events a deploy reported, in order.
final class Events: @unchecked Sendable {
    private var events: [ProgressEvent] = []
    private let lock = NSLock()

    func append(_ event: ProgressEvent) { lock.withLock { events.append(event) } }
    var all: [ProgressEvent] { lock.withLock { events } }
}
