import BMC
import BootServer
import Checks
import Foundation
import Identity
import ImagecCore
import ImageDSL
import Pools
import SwapLedger
@testable import Targets
import Testing

/// ``BareMetalTarget``'s steps against a fake BMC, a fake installer (reports written into a real
/// boot-server state as the machine powers on from the network) and a fake running system (its
/// GRUB environment): the state machine in a second, beside BareMetalDeployTests' real machine.
@Suite(.serialized)
struct BareMetalTargetTests {
    /// A BMC that records what it is asked; powering on from the network runs `installer`.
    final class FakeBMC: BaseboardController, @unchecked Sendable {
        var description: String { "fake bmc" }
        private let lock = NSLock()
        private var power = PowerState.off, device = BootDevice.disk
        private(set) var calls: [String] = []
        var installer: @Sendable () -> Void = {}

        func powerState() throws -> PowerState { lock.withLock { power } }
        func setBootDevice(_ device: BootDevice, once: Bool) throws {
            lock.withLock {
                self.device = device
                calls.append("boot \(device.rawValue)\(once ? " once" : "")")
            }
        }
        func power(_ action: PowerAction) throws {
            let network = lock.withLock { () -> Bool in
                calls.append("power \(action.rawValue)")
                let wasOff = power == .off
                power = action == .forceOff || action == .gracefulShutdown ? .off : .on
                return wasOff && power == .on && device == .network
            }
            if network { DispatchQueue.global().async(execute: installer) }
        }
        func cutPower() { lock.withLock { power = .off } }
    }

    /// The running system, as far as blessing a slot reads and writes it; with `inPlace`, it
    /// answers imagec's probe and runs its agent (`agent` says what the agent reports).
    final class FakeSystem: HostAccess, @unchecked Sendable {
        var running = "a"
        var environment = SlotBoot.Environment(["default_slot": "a", "trial_slot": "a", "trial_left": "0"])
        var inPlace = false
        var state: BootState?
        var agent: (String) -> [InstallerReport] = { _ in [] }
        private(set) var agentRuns = 0, switches: [String] = []

        func requestPowerOff(_ record: SwapRecord) -> Bool { false }
        func requestSync(_ record: SwapRecord) -> Bool { true }
        func check(_ record: SwapRecord, checks: [Check], bootTimeout: Double, progress: ProgressReporter) throws -> HealthCheck.Outcome {
            // The target's `slot x` check, as the real one: the running root is slot x.
            if let slot = checks.first(where: { $0.name.hasPrefix("slot ") })?.name.dropFirst(5), slot != running {
                return HealthCheck.Outcome(checks: [], failure: "check 'slot \(slot)' failed: bm9 runs root-\(running)")
            }
            return HealthCheck.Outcome(checks: [], failure: nil)
        }

        /// What a crash leaves of the machine, and the same machine after it.
        var snapshot: (String, SlotBoot.Environment) { (running, environment) }
        func restore(_ snapshot: (String, SlotBoot.Environment)) { (running, environment) = snapshot }

        /// Runs after the agent has kexeced into the slot it wrote.
        var afterKexec: () -> Void = {}
        func run(_ record: SwapRecord, script: String, timeout: Double) throws -> (status: Int32, output: String) {
            if script.contains("base64 -w0") {
                guard script.contains("!= root-\(running) ]") else { return (3, "the running root is /dev/vda3 (root-\(running))") }
                return (0, environment.block!.base64EncodedString())
            }
            if let match = script.firstMatch(of: /printf '%s' ([A-Za-z0-9+\/=]+) \| base64 -d/),
               let data = Data(base64Encoded: String(match.1)), let written = SlotBoot.Environment(block: data) {
                environment = written
                return (0, "")
            }
            guard inPlace else { return (127, "not faked: \(script)") }
            if script.contains("command -v $tool") {
                return (0, (["running=\(running)"] + environment.values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: "\n"))
            }
            if let slot = script.firstMatch(of: /--boot-slot ([ab])/)?.1 {
                // The agent's --boot-slot: a kexec into the slot, on trial or as the default.
                switches.append(String(slot))
                if script.contains("--trial") {
                    environment["trial_slot"] = String(slot)
                } else {
                    if let trial = environment["trial_slot"], trial != String(slot) { environment["failed_slot"] = trial }
                    environment["default_slot"] = String(slot)
                    environment["trial_slot"] = nil
                }
                running = String(slot)
                return (0, "")
            }
            return (127, "not faked: \(script)")
        }

        func run(_ record: SwapRecord, script: String, timeout: Double, forwarding: (remote: Int, local: Int)) throws -> (status: Int32, output: String) {
            guard inPlace, script.contains("--in-place"), let token = script.firstMatch(of: /--token ([0-9a-f]+)/)?.1, let state else {
                return (255, "not faked: \(script)")
            }
            agentRuns += 1
            let reports = agent(String(token))
            for report in reports {
                try state.append(report, token: String(token))
                if report.kind == .done || report.kind == .failed { try state.finish(token: String(token)) }
            }
            // Done: the trial armed, and the kexec into it.
            if let slot = reports.last(where: { $0.kind == .done })?.slot {
                environment["trial_slot"] = slot
                environment["trial_token"] = String(token.prefix(16))
                running = slot
                afterKexec()
            }
            return (reports.contains { $0.kind == .done } ? 0 : 1, "")
        }
    }

    /// A target on a boot state, a store entry and a ledger in a temporary folder.
    final class Bench: @unchecked Sendable {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-bmtarget-\(UUID().uuidString.prefix(8))")
        let bmc = FakeBMC()
        let system = FakeSystem()
        let state: BootState
        let ledger: Ledger
        let entry: URL
        let installer: InstallerBoot
        let machine = BareMetal(bmc: .ipmi("bmc.lab.example"), bootMAC: "52:54:00:AA:00:09", rootDisk: .serial("S1"))

        init() throws {
            state = BootState(directory: folder.appendingPathComponent("boot"))
            ledger = try Ledger(path: folder.appendingPathComponent("ledger.sqlite"))
            entry = folder.appendingPathComponent("store/0123-bm9")
            try FileManager.default.createDirectory(at: entry, withIntermediateDirectories: true)
            try Data(count: 4096).write(to: entry.appendingPathComponent("disk.raw"))
            let index = BlockIndex(blockSize: 65536, offset: 0, length: 0, digest: "", blocks: [])
            try CanonicalJSON.encode(value: SlotImage(partitions: [], head: index, slot: index)).write(to: entry.appendingPathComponent("slot-image.json"))
            for name in ["vmlinuz", "initramfs.img"] { try Data(name.utf8).write(to: folder.appendingPathComponent(name)) }
            installer = InstallerBoot(kernel: folder.appendingPathComponent("vmlinuz").path, initramfs: folder.appendingPathComponent("initramfs.img").path)
        }

        deinit { try? FileManager.default.removeItem(at: folder) }

        var target: BareMetalTarget {
            var target = BareMetalTarget(host: "bm9", machine: machine, controller: bmc, bootState: state,
                                         identity: { Data("{\"files\":[]}".utf8) }, installerTimeout: 5, stallTimeout: 5)
            target.pollInterval = 0.02
            target.powerCheckInterval = 0.2
            return target
        }

        /// A deploy prepared, its swap begun in the ledger.
        func prepared(digest: String = "sha256:0123") throws -> SwapRecord {
            let (incoming, outgoing) = target.names(replacing: try target.installed())
            let record = try ledger.begin(SwapRecord(
                kind: .deploy, host: "bm9", target: Deployment(bareMetal: machine), machine: target.description, pool: target.store,
                checks: [], ssh: "bm9", incoming: incoming, outgoing: outgoing, digest: digest, previousDigest: try target.installed()?.digest,
                commit: "", forced: false))
            try target.prepare(ReadyImage(host: "bm9", file: entry.appendingPathComponent("disk.raw"), digest: ImageDigest(hex: String(digest.dropFirst(7))),
                                          metadata: [:], identity: HostIdentity(host: "bm9", files: []), installer: installer), swap: record.id!)
            try ledger.done(.prepare, of: record.id!)
            return try ledger.swap(record.id!)!
        }

        /// The installer of the pending deploy reports `reports`, a little apart.
        func installerReports(_ reports: [InstallerReport]) {
            let state = state, mac = machine.bootMAC
            bmc.installer = {
                guard let deploy = state.pending(mac: mac) else { return }
                for report in reports {
                    Thread.sleep(forTimeInterval: 0.05)
                    try? state.append(report, token: deploy.token)
                    if report.kind == .done || report.kind == .failed { try? state.finish(token: deploy.token) }
                }
            }
        }

        func journal(_ record: SwapRecord) -> StepJournal { StepJournal(ledger: ledger, swap: record.id!, beforeStep: { _ in }) }
    }

    @Test func anInstallWritesTheSlotAndTheCheckedSlotBecomesTheDefault() throws {
        let bench = try Bench()
        let record = try bench.prepared()
        // Prepared, not pending: a machine booting from the network meanwhile boots its disk.
        #expect(bench.state.pending(mac: bench.machine.bootMAC) == nil)
        bench.installerReports([InstallerReport(kind: .step, step: "write slot", slot: "a"),
                                InstallerReport(kind: .progress, step: "write slot", slot: "a", fetched: 10, written: 10, total: 20),
                                InstallerReport(kind: .done, step: "next boot", slot: "a", fetched: 10)])
        try bench.target.install(record, journal: bench.journal(record), system: bench.system)
        #expect(bench.bmc.calls == ["boot network once", "power on", "boot disk"])
        #expect(try bench.state.slots(of: "bm9") == HostSlots(a: .init(digest: "sha256:0123", swap: record.id!)))
        // Not blessed yet, A is still the boot loader's default: a deploy now would write B.
        #expect(bench.target.names(replacing: nil) == (incoming: "slot b", outgoing: "none"))
        try bench.target.confirm(record, system: bench.system)
        #expect(bench.system.environment["default_slot"] == "a" && bench.system.environment["trial_slot"] == nil)
        #expect(try bench.target.installed()?.name == "slot a")
        // The next deploy writes the other slot; a system that does not run it is not blessed.
        let next = try bench.prepared(digest: "sha256:4567")
        #expect(next.incoming == "slot b" && next.outgoing == "slot a")
        bench.installerReports([InstallerReport(kind: .done, step: "next boot", slot: "b", fetched: 1)])
        try bench.target.install(next, journal: bench.journal(next), system: bench.system)
        #expect { try bench.target.confirm(next, system: bench.system) } throws: { "\($0)".contains("does not run slot b") }
        #expect(bench.system.environment["default_slot"] == "a")
        // Back on slot A by itself (B's kernel panicked, say): the first check sees it, and
        // the rollback needs no power cycle.
        let check = try #require(bench.target.checks(for: next).first)
        guard case .command(let script, _) = check.probe else { Issue.record("\(check)"); return }
        #expect(check.name == "slot b" && script.contains("[ \"$label\" = root-b ]"))
        let calls = bench.bmc.calls
        try bench.target.revert(next, journal: bench.journal(next), system: bench.system)
        #expect(bench.bmc.calls == calls + ["boot disk"])
        // Running the trial slot still, it is power-cycled.
        bench.system.running = "b"
        try bench.target.revert(next, journal: bench.journal(next), system: bench.system)
        #expect(bench.bmc.calls.suffix(3) == ["boot disk", "power forceOff", "power on"])
    }

    @Test func aFailedInstallerIsReportedAndRevertedToTheDisk() throws {
        let bench = try Bench()
        let record = try bench.prepared()
        bench.installerReports([InstallerReport(kind: .step, step: "write slot", slot: "a"),
                                InstallerReport(kind: .failed, step: "write slot", slot: "a", message: "block 7 does not match its SHA-256",
                                                output: "curl: (18) transfer closed")])
        #expect { try bench.target.install(record, journal: bench.journal(record), system: bench.system) } throws: {
            "\($0)".contains("the installer failed at its step 'write slot': block 7 does not match its SHA-256") && "\($0)".contains("curl: (18)")
        }
        try bench.target.revert(record, journal: bench.journal(record), system: bench.system)
        #expect(bench.bmc.calls == ["boot network once", "power on", "boot disk", "power forceOff", "power on"])
        #expect(bench.state.pending(mac: bench.machine.bootMAC) == nil)
        #expect(try bench.state.slots(of: "bm9") == HostSlots())
    }

    @Test func aMachinePoweredOffOrSilentFailsTheInstall() throws {
        let bench = try Bench()
        let record = try bench.prepared()
        let bmc = bench.bmc
        bench.installerReports([InstallerReport(kind: .step, step: "write slot", slot: "a")])
        let installer = bmc.installer
        bmc.installer = { installer(); bmc.cutPower() }
        #expect { try bench.target.install(record, journal: bench.journal(record), system: bench.system) } throws: {
            "\($0)".contains("was powered off while its installer ran")
        }
        // A machine that never boots the installer.
        let silent = try bench.prepared()
        bench.bmc.installer = {}
        #expect { try bench.target.install(silent, journal: bench.journal(silent), system: bench.system) } throws: {
            "\($0)".contains("no installer reported within 5 s")
        }
    }

    @Test func aResumedInstallFollowsTheInstallerWithoutAnotherPowerCycle() throws {
        let bench = try Bench()
        var record = try bench.prepared()
        bench.installerReports([InstallerReport(kind: .step, step: "write slot", slot: "a")])
        // Interrupted once the network boot was done.
        let journal = bench.journal(record)
        try journal.intend(BareMetalTarget.networkBoot)
        try bench.state.activate(try #require(bench.state.deploys(host: "bm9", swap: String(record.id!)).first))
        try bench.bmc.setBootDevice(.network, once: true)
        try bench.bmc.power(.on)
        try journal.done(BareMetalTarget.networkBoot)
        record = try #require(try bench.ledger.swap(record.id!))
        let token = try #require(bench.state.deploys(host: "bm9", swap: String(record.id!)).first?.token)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) {
            try? bench.state.append(InstallerReport(kind: .done, step: "next boot", slot: "a", fetched: 5), token: token)
        }
        try bench.target.install(record, journal: bench.journal(record), system: bench.system)
        #expect(bench.bmc.calls == ["boot network once", "power on", "boot disk"])
        #expect(try bench.state.slots(of: "bm9").a?.swap == record.id!)
    }

    @Test func aRunningSystemTakesItsImageInPlaceAndTheBMCIsNeverAsked() throws {
        let bench = try Bench()
        bench.system.inPlace = true
        bench.system.state = bench.state
        bench.system.environment = SlotBoot.Environment(["default_slot": "a", "trial_left": "0"])
        try bench.state.record(HostSlots(defaultSlot: "a", a: .init(digest: "sha256:0000", swap: 0)), of: "bm9")
        bench.system.agent = { _ in [InstallerReport(kind: .step, step: "write slot", slot: "b"),
                                     InstallerReport(kind: .done, step: "next boot", slot: "b", fetched: 3)] }
        let record = try bench.prepared()
        try bench.target.install(record, journal: bench.journal(record), system: bench.system)
        #expect(bench.bmc.calls.isEmpty && bench.system.agentRuns == 1 && bench.system.running == "b")
        #expect(try bench.state.slots(of: "bm9").b?.swap == record.id!)
        #expect(try bench.ledger.steps(of: record.id!).map(\.0).contains(BareMetalTarget.inPlace.rawValue))
        // Its checks fail: back into slot A by kexec, still without the BMC; B recorded as failed.
        try bench.target.revert(record, journal: bench.journal(record), system: bench.system)
        #expect(bench.bmc.calls.isEmpty && bench.system.switches == ["a"] && bench.system.running == "a")
        #expect(bench.system.environment["default_slot"] == "a" && bench.system.environment["failed_slot"] == "b")
        // `imagec status`: A the default and running, B the given-up try.
        #expect(bench.target.slotStatus(record, system: bench.system) == [
            SlotStatus(slot: "a", digest: "sha256:0000", swap: 0, isDefault: true, running: true, failedTry: nil),
            SlotStatus(slot: "b", digest: "sha256:0123", swap: record.id!, isDefault: false, running: false, failedTry: "swap \(record.id!)"),
        ])

        // Again, and blessed: B is the default.
        let next = try bench.prepared(digest: "sha256:4567")
        try bench.target.install(next, journal: bench.journal(next), system: bench.system)
        try bench.target.confirm(next, system: bench.system)
        #expect(bench.system.environment["default_slot"] == "b" && bench.system.environment["trial_slot"] == nil
                && bench.system.environment["trial_token"] == nil && bench.bmc.calls.isEmpty)

        // Interrupted once the agent had kexeced into the trial: resumed, the slot counts as
        // written (the trial's token is this swap's), the agent does not run again.
        bench.system.running = "b"
        bench.system.environment = SlotBoot.Environment(["default_slot": "b", "trial_left": "0"])
        let third = try bench.prepared(digest: "sha256:89ab")
        let journal = bench.journal(third)
        try journal.intend(BareMetalTarget.inPlace)
        let token = try #require(bench.state.deploys(host: "bm9", swap: String(third.id!)).first?.token)
        bench.system.environment["trial_slot"] = "a"
        bench.system.environment["trial_token"] = String(token.prefix(16))
        bench.system.running = "a"
        let runs = bench.system.agentRuns
        try bench.target.install(try #require(try bench.ledger.swap(third.id!)), journal: bench.journal(third), system: bench.system)
        let written = try bench.state.slots(of: "bm9").a?.swap
        #expect(bench.system.agentRuns == runs && written == third.id!)
    }

    @Test func aMachineThatDoesNotAnswerGoesThroughTheNetworkUnlessInPlaceIsAsked() throws {
        let bench = try Bench()
        let record = try bench.prepared()
        var inPlace = bench.target
        inPlace.via = .inPlace
        #expect { try inPlace.install(record, journal: bench.journal(record), system: bench.system) } throws: {
            "\($0)".contains("bm9 cannot take its image in place")
        }
        #expect(bench.bmc.calls.isEmpty)
        let events = EventLog()
        var automatic = bench.target
        automatic.progress = ProgressReporter { event in if case .message(let line) = event.kind { events.append(line) } }
        bench.installerReports([InstallerReport(kind: .done, step: "next boot", slot: "a", fetched: 10)])
        try automatic.install(record, journal: bench.journal(record), system: bench.system)
        #expect(bench.bmc.calls == ["boot network once", "power on", "boot disk"])
        #expect(events.lines.contains { $0.contains("cannot take its image in place") && $0.contains("through fake bmc and the network boot instead") })
    }

    final class EventLog: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [String] = []
        func append(_ line: String) { lock.withLock { stored.append(line) } }
        var lines: [String] { lock.withLock { stored } }
    }

    /// An in-place deploy interrupted before each step and right after the agent's kexec (as a
    /// SIGKILL of imagec leaves it: the ledger, imagec serve's state and the machine), then
    /// finished by `deploy --resume` or undone by `rollback`: the machine ends on the new slot,
    /// blessed, or on the previous one, its default all along; the BMC is never asked.
    @Test func anInPlaceDeployInterruptedAnywhereIsResumedOrRolledBack() throws {
        let bench = try Bench()
        defer { try? FileManager.default.removeItem(at: bench.folder) }
        bench.system.inPlace = true
        bench.system.state = bench.state
        bench.system.environment = SlotBoot.Environment(["default_slot": "a", "trial_left": "0"])
        try bench.state.record(HostSlots(defaultSlot: "a", a: .init(digest: "sha256:0000", swap: 0)), of: "bm9")
        bench.system.agent = { _ in [InstallerReport(kind: .done, step: "next boot", slot: "b", fetched: 3)] }
        let model = try #require(OperatingSystem {
            HostName("bm9")
            Disk(rootSlots: .ab)
            Deployment(bareMetal: bench.machine, ssh: "127.0.0.1:1")
        }.resolve().0)
        let bmc = bench.bmc, state = bench.state, system = bench.system
        func deployer(ledger: Ledger, beforeStep: @escaping @Sendable (SwapStep) -> Void = { _ in }) -> HostDeployer {
            var drivers = DeployDrivers(pool: { _ in throw DeployError("no pool") }, hypervisor: { _ in throw DeployError("no hypervisor") },
                                        writeIdentity: { _, _ in }, access: system, bmc: { _ in bmc }, bootState: state,
                                        installerIdentity: { _ in Data("{\"files\":[]}".utf8) })
            drivers.bareMetalVia = .automatic
            var deployer = HostDeployer(ledger: ledger, drivers: drivers, secrets: HostKeys(directory: bench.folder.appendingPathComponent("secrets")),
                                        progress: .silent)
            deployer.beforeStep = beforeStep
            deployer.bootTimeout = 1
            return deployer
        }
        // Each crash point: the ledger's and the boot state's files, and the machine.
        final class Points: @unchecked Sendable {
            var taken: [(String, URL, (String, SlotBoot.Environment))] = []
        }
        let points = Points()
        let folder = bench.folder, ledgerFile = folder.appendingPathComponent("ledger.sqlite")
        @Sendable func crash(_ point: String) {
            let copy = folder.appendingPathComponent("crash-\(points.taken.count)")
            try! FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
            try! FileManager.default.copyItem(at: ledgerFile, to: copy.appendingPathComponent("ledger.sqlite"))
            try! FileManager.default.copyItem(at: state.directory, to: copy.appendingPathComponent("boot"))
            points.taken.append((point, copy, system.snapshot))
        }
        bench.system.afterKexec = { crash("after the kexec") }
        let request = HostDeployer.Request(model: model, image: bench.entry.appendingPathComponent("disk.raw"), digest: ImageDigest(hex: "4567"),
                                           provenance: Provenance(commit: "abc", version: "test", packages: "p"), forced: true, installer: bench.installer)
        let outcome = try deployer(ledger: bench.ledger, beforeStep: { crash("before \($0)") }).deploy(request)
        #expect(outcome.result == .healthy && bench.system.running == "b" && bench.system.environment["default_slot"] == "b", "\(outcome)")
        #expect(points.taken.map(\.0) == ["before in-place", "after the kexec", "before check"], "\(points.taken.map(\.0))")
        bench.system.afterKexec = {}

        for (point, copy, machine) in points.taken {
            for undo in [false, true] {
                // The state the crash left, in a folder of its own.
                let restored = folder.appendingPathComponent("restored-\(UUID().uuidString.prefix(6))")
                try FileManager.default.copyItem(at: copy, to: restored)
                try FileManager.default.removeItem(at: state.directory)
                try FileManager.default.copyItem(at: restored.appendingPathComponent("boot"), to: state.directory)
                bench.system.restore(machine)
                let ledger = try Ledger(path: restored.appendingPathComponent("ledger.sqlite"))
                let unfinished = try #require(try ledger.unfinished().first, "\(point)")
                if undo {
                    let reverted = try deployer(ledger: ledger).rollback("bm9")
                    #expect(reverted.result == .reverted, "\(point): \(reverted)")
                    #expect(bench.system.running == "a" && bench.system.environment["default_slot"] == "a", "\(point), rolled back: \(bench.system.environment)")
                } else {
                    let resumed = try deployer(ledger: ledger).resume(unfinished)
                    #expect(resumed.result == .healthy, "\(point): \(resumed)")
                    #expect(bench.system.running == "b" && bench.system.environment["default_slot"] == "b", "\(point), resumed: \(bench.system.environment)")
                }
                #expect(try ledger.unfinished().isEmpty, "\(point)")
            }
        }
        #expect(bench.bmc.calls.isEmpty, "\(bench.bmc.calls)")
    }

    /// The deploy in place's boot server starts and answers while every thread of Swift's shared
    /// pool waits (as deploys do, one per host, `--jobs` as many as cores): it has a thread of its own.
    @Test func theInPlaceServerAnswersWhileTheSharedPoolWaits() throws {
        let bench = try Bench()
        final class Answer: @unchecked Sendable { var value: String? }  // written before `done`, read after
        let answered = Answer()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let release = DispatchSemaphore(value: 0), started = DispatchSemaphore(value: 0)
            let width = ProcessInfo.processInfo.activeProcessorCount
            for _ in 0..<width { Task.detached { started.signal(); release.wait() } }
            // The test's own thread is one of them: the others, as many as start.
            for _ in 0..<width { _ = started.wait(timeout: .now() + 2) }
            defer { for _ in 0..<width { release.signal() } ; done.signal() }
            do {
                let server = try LocalBootServer(state: bench.state)
                defer { server.stop() }
                let curl = Process()
                curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                curl.arguments = ["-s", "-o", "/dev/null", "-m", "10", "-w", "%{http_code}", "http://127.0.0.1:\(server.port)/boot/52:54:00:aa:00:09.ipxe"]
                let output = Pipe()
                curl.standardOutput = output
                try curl.run()
                curl.waitUntilExit()
                answered.value = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            } catch {
                answered.value = "\(error)"
            }
        }
        done.wait()
        #expect(answered.value.map { $0.count == 3 && $0 != "000" } ?? false, "\(answered.value ?? "")")
    }
}
