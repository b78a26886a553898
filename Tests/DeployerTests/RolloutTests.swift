@testable import Fleet
import Foundation
@testable import ImagecCore
import ImageDSL
@testable import Targets
import Testing

/// The rollout and the fleet's status as library calls, on fake machines and a fake pool.
struct RolloutTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-rollout-\(UUID().uuidString.prefix(8))")

    func rollout(_ fleet: FakeFleet, jobs: Int) -> Rollout {
        var rollout = Rollout(deployer: fleet.deployer())
        rollout.jobs = jobs
        return rollout
    }

    @Test func hostsAreDeployedSideBySideAndFailAlone() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let hosts = ["node1", "node2", "node3", "node4", "node5"]
        let fleet = try FakeFleet(hosts: hosts, folder: folder)
        fleet.access.checkSeconds = 0.2
        fleet.access.waitForCompany = 30
        fleet.access.broken = ["sha256:node4"]
        // node6's machine does not exist.
        let requests = (hosts + ["node6"]).map { fleet.request($0, digest: "sha256:\($0)", model: FakeFleet.model($0, shutdown: .powerOff)) }
        let outcomes = await rollout(fleet, jobs: 2).deploy(requests)
        #expect(outcomes.map(\.host) == hosts + ["node6"])
        #expect(outcomes.map(\.result) == [.healthy, .healthy, .healthy, .failed, .healthy, .error], "\(outcomes)")
        #expect(outcomes[5].failure?.contains("no machine") == true)
        #expect(fleet.access.mostAtOnce == 2)
        for host in ["node1", "node2", "node3", "node5"] { #expect(fleet.machines[host]!.state.runs == "sha256:\(host)") }

        // The plan reads the pool: node1 now replaces the image its swap put there (whose
        // number depends on which host the two jobs started first).
        let swap = try #require(fleet.ledger.swaps(of: "node1").first?.id)
        let plans = try rollout(fleet, jobs: 2).plan([FakeFleet.model("node1", shutdown: .powerOff)])
        #expect(plans.first?.text == """
            node1: fake:node1
              push and make node1-root_candidate in fake:pool
              flush its file systems and power the machine off; node1-root → node1-root_d\(swap); node1-root_candidate → node1-root; start it
              check over SSH at 127.0.0.1:1: boot, host name, users, works
            """, "\(plans)")
    }

    @Test func statusShowsWhatRunsTheDriftAndTheGenerations() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let fleet = try FakeFleet(hosts: ["node1", "node2"], folder: folder)
        for (host, digest) in [("node1", "sha256:a"), ("node1", "sha256:b"), ("node2", "sha256:c")] {
            _ = try fleet.deployer().deploy(fleet.request(host, digest: digest, model: FakeFleet.model(host, shutdown: .powerOff)))
        }
        let statuses = try FleetStatus.hosts(in: fleet.ledger, drivers: fleet.drivers, wanted: ["node1": ImageDigest(hex: "b"), "node2": ImageDigest(hex: "d")])
        #expect(statuses.map(\.host) == ["node1", "node2"])
        #expect(statuses[0].runs == "sha256:b" && statuses[0].swap == 2 && statuses[0].drift == false && statuses[0].lastSwap == "2 deploy healthy")
        #expect(statuses[0].rollbackTargets == ["node1-root_d1"] && statuses[0].since != nil)
        #expect(statuses[1].runs == "sha256:c" && statuses[1].drift == true && statuses[1].rollbackTargets.isEmpty)
        // Without definitions, no drift is claimed.
        #expect(try FleetStatus.hosts(in: fleet.ledger, drivers: fleet.drivers).allSatisfy { $0.drift == nil && $0.definition == nil })
    }

    @Test func onlyTestedImagesPassTheGateUnlessForced() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let fleet = try FakeFleet(hosts: ["node1"], folder: folder)
        let store = Store(root: folder.appendingPathComponent("store"))
        let entry = "0123456789abcdef-node1"
        _ = try store.entry(entry) { try Data().write(to: $0.appendingPathComponent("disk.raw")) }
        var rollout = rollout(fleet, jobs: 1)
        #expect { try rollout.gate(entry: entry, of: "node1", in: store) } throws: { error in
            (error as? DeployRefused)?.failureKind == .refused && "\(error)".contains("node1's image 0123456789ab has not passed `imagec test` (built, not tested")
        }
        // A failed run does not open the gate; a passed one does.
        func record(_ name: String, passed: Bool) throws {
            let run = store.root.appendingPathComponent(".tests/\(entry)/\(name)")
            try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
            let json: [String: Any] = ["entry": entry, "hostName": "node1", "firmware": "bios", "accelerator": "tcg", "passed": passed,
                                       "started": name, "seconds": 1, "checks": [], "imagecVersion": "test"]
            try JSONSerialization.data(withJSONObject: json).write(to: run.appendingPathComponent("record.json"))
        }
        try record("2026-12-01T100000Z-bios", passed: false)
        #expect(throws: DeployRefused.self) { try rollout.gate(entry: entry, of: "node1", in: store) }
        rollout.force = true
        #expect(try rollout.gate(entry: entry, of: "node1", in: store))
        rollout.force = false
        try record("2026-12-01T110000Z-bios", passed: true)
        #expect(try !rollout.gate(entry: entry, of: "node1", in: store))
    }
}
