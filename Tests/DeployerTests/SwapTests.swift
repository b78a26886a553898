import Foundation
@testable import Hypervisors
import ImageDSL
@testable import Pools
@testable import SwapLedger
@testable import Targets
import Testing

/// The ledger, the disk swap and the hypervisor drivers, without booting a system: a real
/// libvirt domain whose disk holds no OS (SeaBIOS finds nothing to boot, so stopping it is a
/// power-off after the shutdown timeout), and the Proxmox driver against recorded API answers.
@Suite(.serialized)
struct SwapTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-swap-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func ledgerRecordsStepsDurably() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("ledger.sqlite")
        let target = Deployment(to: .local(folder.path), disk: "node1-root", machine: .libvirt("node1"))
        let record = try Ledger(path: path).begin(SwapRecord(
            kind: .deploy, host: "node1", target: target, machine: "libvirt:qemu:///system node1", pool: "local:\(folder.path)",
            checks: [.bootCompleted()], ssh: "10.0.0.1", incoming: "node1-root_candidate",
            outgoing: "node1-root_original", digest: "sha256:one", previousDigest: nil, commit: "abc", forced: true))
        let ledger = try Ledger(path: path)
        try ledger.done(.prepare, of: record.id!)
        try ledger.intend(.stop, of: record.id!)
        // Read back by another handle, as `--resume` would after a crash.
        let reopened = try Ledger(path: path)
        let unfinished = try reopened.unfinished()
        #expect(unfinished.count == 1 && unfinished[0].step == .stop && !unfinished[0].stepDone && unfinished[0].forced)
        #expect(unfinished[0].target == target && unfinished[0].checks == [.bootCompleted()] && unfinished[0].machine == "libvirt:qemu:///system node1")
        #expect(try reopened.steps(of: record.id!).map { "\($0.0) \($0.1)" } == ["prepare intent", "prepare done", "stop intent"])
        try reopened.finish(record.id!, result: .reverted)
        #expect(try Ledger(path: path).unfinished().isEmpty)
        #expect(try Ledger(path: path).swaps(of: "node1").first?.result == .reverted)
        #expect(throws: LedgerError.self) { try Ledger(path: URL(fileURLWithPath: "/proc/imagec/ledger.sqlite")) }
    }

    /// A local pool with two generations of node1's (non-bootable) root disk, tagged as swaps 1
    /// and 2 would tag them: `node1-root` (swap 1) and `node1-root_candidate` (swap 2); and a
    /// libvirt domain booting from `node1-root`. Returns the pool and the domain's name.
    func twoGenerations(in folder: URL) throws -> (LocalPool, String) {
        try DeployTests.ensureLibvirtd()
        let pool = LocalPool(directory: folder.appendingPathComponent("pool"))
        var images: [PoolImage] = []
        for (index, seed) in [UInt8(1), 2].enumerated() {
            let raw = folder.appendingPathComponent("\(index).raw")
            try PoolTests.image(at: raw, seed: seed)
            images.append(try pool.push(PushRequest(file: raw, name: "imagec_node1_20261123210\(index)", digest: "sha256:\(index + 1)",
                                                    metadata: [PoolMetadata.system: "node1"], parent: nil)) { _ in }.image)
        }
        _ = try pool.clone(images[0], as: "node1-root", metadata: [PoolMetadata.host: "node1", PoolMetadata.swap: "1"])
        _ = try pool.clone(images[1], as: "node1-root_candidate", metadata: [PoolMetadata.host: "node1", PoolMetadata.swap: "2"])
        let domain = "imagec-\(folder.lastPathComponent.suffix(8))"
        try DeployTests.define("""
            <domain type='qemu'>
              <name>\(domain)</name>
              <memory unit='MiB'>128</memory>
              <os><type arch='x86_64' machine='q35'>hvm</type></os>
              <devices>
                <disk type='file' device='disk'>
                  <driver name='qemu' type='qcow2'/>
                  <source file='\(pool.directory.path)/node1-root.qcow2'/>
                  <target dev='vda' bus='virtio'/>
                </disk>
              </devices>
            </domain>
            """, in: folder)
        return (pool, domain)
    }

    @Test func swapAndRevertOnALibvirtDomain() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (pool, domain) = try twoGenerations(in: folder)
        defer { DeployTests.undefine(domain) }
        let machine = LibvirtHypervisor(domain: domain)
        #expect(try machine.disks() == ["node1-root"])
        #expect(try !machine.isRunning())
        try machine.start()
        #expect(try machine.isRunning())
        #expect(throws: HypervisorError.self) { try LibvirtHypervisor(domain: "imagec-no-such-domain").isRunning() }

        let ledger = try Ledger(path: folder.appendingPathComponent("ledger.sqlite"))
        let current = try pool.images().first { $0.name == "node1-root" }
        let outgoing = DiskNames(disk: "node1-root").retired(installedBy: current?.metadata[PoolMetadata.swap].flatMap(Int64.init))
        #expect(outgoing == "node1-root_d1")
        // A persistent volume's disk, snapshotted while the machine is stopped.
        _ = try pool.clone(try #require(try pool.images().first { $0.isBase }), as: "node1-data", metadata: [:])
        let record = try ledger.begin(SwapRecord(
            kind: .deploy, host: "node1", target: Deployment(to: .local(pool.directory.path), disk: "node1-root", machine: .libvirt(domain)),
            machine: machine.description, pool: pool.description, checks: [], ssh: "127.0.0.1", volumes: ["node1-data"], incoming: "node1-root_candidate", outgoing: outgoing, digest: "sha256:1",
            previousDigest: "sha256:0", commit: "abc", forced: false))
        try ledger.done(.prepare, of: record.id!)
        let swap = DiskSwapTarget(pool: pool, machine: machine, disk: "node1-root", stopTimeout: 1, writeIdentity: { _, _ in })
        let journal = StepJournal(ledger: ledger, swap: record.id!), system = FakeAccess(machines: [:])
        try swap.install(record, journal: journal, system: system)
        func disk() throws -> String? { try pool.images().first { $0.name == "node1-root" }?.metadata[PoolMetadata.swap] }
        #expect(try disk() == "2" && machine.isRunning())
        let snapshots = try PoolTests.output("/usr/bin/qemu-img", ["snapshot", "-l", "-U", pool.directory.appendingPathComponent("node1-data.qcow2").path])
        #expect(snapshots.contains(DiskNames.volumeSnapshot(before: record.id!)), "\(snapshots)")
        #expect(try Set(pool.images().map(\.name)).isSuperset(of: ["node1-root", "node1-root_d1"]))
        // Running it again (as --resume does) changes nothing.
        try swap.install(record, journal: journal, system: system)
        #expect(try disk() == "2")
        // Reverted: swap 1's disk is back, the candidate has its name again.
        try swap.revert(record, journal: journal, system: system)
        #expect(try disk() == "1" && machine.isRunning())
        #expect(try pool.images().contains { $0.name == "node1-root_candidate" } && !pool.images().contains { $0.name == "node1-root_d1" })
        // Reverting a swap interrupted after the retire step (no root disk at all) restores it too.
        try machine.stop(timeout: 1)
        try pool.rename("node1-root", to: "node1-root_d1")
        try swap.revert(record, journal: journal, system: system)
        #expect(try disk() == "1" && machine.isRunning())
        let steps = try ledger.steps(of: record.id!).map { "\($0.0) \($0.1)" }
        #expect(steps.prefix(4) == ["prepare intent", "prepare done", "stop intent", "stop done"], "\(steps)")
        try machine.stop(timeout: 1)
        #expect(try !machine.isRunning())
    }

    /// imagec killed (SIGKILL) at each step of a swap, then `imagec rollback` or `imagec deploy
    /// --resume`: the domain runs again, from one complete generation under the disk's name, the
    /// other under its generation name, and the ledger has no unfinished swap. (The disk holds
    /// no OS, so the checks after a resumed swap fail: SSH never answers.)
    @Test func killedAtEachStepThenResumedOrRolledBack() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (pool, domain) = try twoGenerations(in: folder)
        defer { DeployTests.undefine(domain) }
        let machine = LibvirtHypervisor(domain: domain)
        // The ledger as two deploys left it: swap 2 runs, swap 1's disk kept as node1-root_d1.
        let ledger = try Ledger(path: folder.appendingPathComponent("ledger.sqlite"))
        let target = Deployment(to: .local(pool.directory.path), disk: "node1-root", machine: .libvirt(domain), ssh: "127.0.0.1:1")
        for (incoming, outgoing, digest) in [("node1-root_candidate", "node1-root_original", "sha256:1"), ("node1-root_candidate", "node1-root_d1", "sha256:2")] {
            let record = try ledger.begin(SwapRecord(kind: .deploy, host: "node1", target: target, machine: machine.description,
                                                     pool: pool.description, checks: [], ssh: "127.0.0.1:1",
                                                     incoming: incoming, outgoing: outgoing, digest: digest, previousDigest: nil,
                                                     commit: "abc", forced: false))
            try ledger.finish(record.id!, result: .healthy)
        }
        try DiskSwapTarget(pool: pool, machine: machine, disk: "node1-root", stopTimeout: 1, writeIdentity: { _, _ in })
            .install(try ledger.swap(2)!, journal: StepJournal(ledger: ledger, swap: 2), system: FakeAccess(machines: [:]))
        #expect(try pool.images().first { $0.name == "node1-root" }?.metadata[PoolMetadata.swap] == "2")

        for (index, step) in [DiskSwapTarget.stop, DiskSwapTarget.snapshot, DiskSwapTarget.retire, DiskSwapTarget.promote,
                              DiskSwapTarget.start, SwapStep.check].enumerated() {
            let current = try #require(try pool.images().first { $0.name == "node1-root" }?.metadata[PoolMetadata.swap])
            let other = current == "2" ? "1" : "2"
            let (process, log) = try DeployTests.start(["rollback", "node1", "--to", other, "--boot-timeout", "1", "--stop-timeout", "1"], in: folder,
                                                       environment: ["IMAGEC_PAUSE_BEFORE": step.rawValue])
            let deadline = Date().addingTimeInterval(120)
            while process.isRunning, Date() < deadline, !((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("paused before \(step.rawValue)") {
                usleep(100_000)
            }
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            #expect(process.isRunning, "imagec ended before the \(step.rawValue) step: \(output)")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(try ledger.unfinished().first?.step == step)

            // Half of them finished, half of them undone.
            let resume = index % 2 == 0
            let recovered = try DeployTests.imagec(resume ? ["deploy", "--resume", "--boot-timeout", "1", "--stop-timeout", "1"]
                : ["rollback", "node1", "--stop-timeout", "1"], in: folder)
            let expected = resume ? other : current
            let names = try Set(pool.images().map(\.name))
            let disk = try pool.images().first { $0.name == "node1-root" }?.metadata[PoolMetadata.swap]
            #expect(disk == expected, "killed before \(step.rawValue), then \(resume ? "resumed" : "rolled back"): \(recovered.output)")
            #expect(names.contains("node1-root_d\(expected == "1" ? "2" : "1")"), "\(names)")
            #expect(try machine.isRunning(), "the domain is not running after \(step.rawValue): \(recovered.output)")
            #expect(try ledger.unfinished().isEmpty)
        }
        try machine.stop(timeout: 1)
    }

    @Test func proxmoxDriverAgainstRecordedAnswers() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Proxmox")
        let log = folder.appendingPathComponent("requests.log"), portFile = folder.appendingPathComponent("port")
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = [here.appendingPathComponent("recorded-api.py").path, here.appendingPathComponent("pve1-vm127.json").path, log.path, portFile.path]
        try server.start()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }  // it inherits a mask blocking SIGTERM
        var port: Int?
        for _ in 0..<100 where port == nil {
            port = (try? String(contentsOf: portFile, encoding: .utf8)).flatMap { Int($0) }
            usleep(50_000)
        }
        let api = "http://127.0.0.1:\(try #require(port))"
        let token = folder.appendingPathComponent("token")
        try "root@pam!imagec=11111111-2222-3333-4444-555555555555\n".write(to: token, atomically: true, encoding: .utf8)

        let machine = try ProxmoxHypervisor(api: api, node: "pve1", vmid: 127, tokenFile: token.path)
        #expect(machine.description == "proxmox:127.0.0.1 pve1/127")
        #expect(try machine.disks() == ["vm-127-disk-0", "vm-127-disk-1"])
        #expect(try machine.isRunning())
        try machine.stop(timeout: 30)
        #expect(try !machine.isRunning())
        try machine.start()
        #expect(try machine.isRunning())
        try machine.powerOff()
        #expect(try !machine.isRunning())
        try machine.start()
        let requests = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
        }
        #expect(requests.allSatisfy { $0["auth"] == "PVEAPIToken=root@pam!imagec=11111111-2222-3333-4444-555555555555" })
        let shutdown = requests.first { $0["path"] == "/api2/json/nodes/pve1/qemu/127/status/shutdown" }
        #expect(shutdown?["method"] == "POST" && shutdown?["body"] == "forceStop=1&timeout=30")
        #expect(requests.contains { $0["path"]?.hasPrefix("/api2/json/nodes/pve1/tasks/UPID:pve1:") == true && $0["path"]?.contains("qmshutdown") == true })
        #expect(requests.contains { $0["method"] == "POST" && $0["path"] == "/api2/json/nodes/pve1/qemu/127/status/stop" })
        #expect(requests.contains { $0["path"]?.hasPrefix("/api2/json/nodes/pve1/tasks/UPID:pve1:") == true && $0["path"]?.contains("qmstop") == true })

        // A refused token, an unknown VM, a token file that is not one: clear errors.
        try "root@pam!imagec=00000000-0000-0000-0000-000000000000\n".write(to: token, atomically: true, encoding: .utf8)
        #expect { try ProxmoxHypervisor(api: api, node: "pve1", vmid: 127, tokenFile: token.path).isRunning() } throws: {
            "\($0)".contains("HTTP 401: the API token was refused")
        }
        try "root@pam!imagec=11111111-2222-3333-4444-555555555555\n".write(to: token, atomically: true, encoding: .utf8)
        #expect { try ProxmoxHypervisor(api: api, node: "pve1", vmid: 128, tokenFile: token.path).isRunning() } throws: {
            "\($0)".contains("pve1/128") && "\($0)".contains("HTTP 404")
        }
        try "secret\n".write(to: token, atomically: true, encoding: .utf8)
        #expect { try ProxmoxHypervisor(api: api, node: "pve1", vmid: 127, tokenFile: token.path) } throws: {
            "\($0)".contains("is not a Proxmox API token")
        }
        #expect(Deployment(to: .rbd("vm"), disk: "bigmem2-root", machine: .proxmox(vmid: 127, node: "pve1", api: api)).validate()
            == ["the disk of Proxmox VM 127 must be named vm-127-disk-<n>, not 'bigmem2-root'"])
    }
}
