@testable import BootTest
@testable import DefinitionEvaluation
import Foundation
import ImageDSL
@testable import Packages
import Testing

/// `imagec deploy` end to end on a real libvirtd (QEMU under TCG here): test001 tested, then
/// deployed to a domain whose root disk is an RBD image on the throw-away Ceph cluster (QEMU's
/// rbd driver, the key in a libvirt secret, as on a production host); redeployed after a change (the
/// content changes, the SSH host key does not); a broken image deployed with --force fails
/// its checks and is rolled back by itself; a rollback by hand, killed halfway, is resumed.
@Suite(.serialized)
struct DeployTests {
    static let repository = PoolTests.repository

    struct Run {
        var status: Int32
        var output: String
    }

    /// Starts imagec in `folder`, with its own store, cache, secrets and ledger; its output
    /// (standard output and error together) goes to the returned file.
    static func start(_ arguments: [String], in folder: URL, environment extra: [String: String] = [:]) throws -> (Process, URL) {
        let process = Process()
        process.executableURL = DSLToolchain.currentExecutable.deletingLastPathComponent().appendingPathComponent("imagec")
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["IMAGEC_STORE"] = folder.appendingPathComponent("store").path
        environment["IMAGEC_CACHE_DIR"] = folder.appendingPathComponent("cache").path
        environment["IMAGEC_SECRETS"] = folder.appendingPathComponent("secrets").path
        environment["IMAGEC_LEDGER"] = folder.appendingPathComponent("ledger.sqlite").path
        process.environment = environment.merging(extra) { $1 }
        let log = folder.appendingPathComponent("imagec-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.start()
        try handle.close()
        return (process, log)
    }

    /// Runs imagec in `folder` to its end; `boots`: it boots the (emulated) domain, in one of this
    /// machine's guest slots, as `imagec test` does.
    static func imagec(_ arguments: [String], in folder: URL, environment: [String: String] = [:], boots: Bool = false) throws -> Run {
        let slot = boots ? try GuestSlot.take(for: .tcg, progress: .silent) : nil
        defer { slot?.release() }
        let (process, log) = try start(arguments, in: folder, environment: environment)
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: try String(contentsOf: log, encoding: .utf8))
    }

    static let libvirtdLock = NSLock()

    /// Starts libvirtd (and virtlogd) unless one answers (scripts/start-libvirtd); one caller at a
    /// time (scripts/test starts them before the suite).
    static func ensureLibvirtd() throws {
        libvirtdLock.lock()
        defer { libvirtdLock.unlock() }
        func answers() -> Bool { (try? PoolTests.output("/usr/bin/virsh", ["-c", "qemu:///system", "uri"]))?.contains("qemu:///system") == true }
        if answers() { return }
        try spawnDaemon(PoolTests.repository.appendingPathComponent("scripts/start-libvirtd").path, [])
        for _ in 0..<300 where !answers() { usleep(200_000) }
    }

    /// Starts a daemon's launcher without waiting for it: Foundation's Process was seen never
    /// to notice the end of a launcher whose daemon lives on.
    static func spawnDaemon(_ path: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        try process.start()
    }

    /// Defines a libvirt domain from `xml` (kept in `folder` for debugging).
    static func define(_ xml: String, in folder: URL) throws {
        let file = folder.appendingPathComponent("domain-\(UUID().uuidString.prefix(8)).xml")
        try xml.write(to: file, atomically: true, encoding: .utf8)
        try PoolTests.run("/usr/bin/virsh", ["-q", "-c", "qemu:///system", "define", file.path])
    }

    /// Stops and forgets a domain.
    static func undefine(_ domain: String) {
        _ = try? PoolTests.output("/usr/bin/virsh", ["-c", "qemu:///system", "destroy", domain])
        _ = try? PoolTests.output("/usr/bin/virsh", ["-c", "qemu:///system", "undefine", domain])
    }

    /// Runs `command` on the machine as root with imagec's deploy key; the host key must be `hostKey`.
    static func ssh(_ command: String, port: Int, folder: URL, hostKey: String) throws -> String {
        let knownHosts = folder.appendingPathComponent("known_hosts")
        try "[127.0.0.1]:\(port) \(hostKey)\n".write(to: knownHosts, atomically: true, encoding: .utf8)
        return try PoolTests.output("/usr/bin/ssh", [
            "-i", folder.appendingPathComponent("secrets/deploy_key").path, "-p", "\(port)", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=\(knownHosts.path)", "-o", "ConnectTimeout=10",
            "root@127.0.0.1", command,
        ])
    }

    @Test func deployRedeployAndRollBackOnLibvirt() throws {
        try Self.ensureLibvirtd()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-deploy-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("systems"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: Self.repository.appendingPathComponent("templates"), to: folder.appendingPathComponent("templates"))
        let domain = "imagec-\(folder.lastPathComponent.suffix(8))"
        let port = Int.random(in: 30000..<40000)
        let cluster = try CephCluster.start()
        defer { cluster.stop() }
        // The client key as a libvirt secret, which the domain's disk names.
        let secret = UUID().uuidString.lowercased()
        let keyring = try String(contentsOf: cluster.directory.appendingPathComponent("keyring"), encoding: .utf8)
        let key = try #require(keyring.split(separator: "\n").first { $0.contains("key = ") }?.split(separator: " ").last)
        try "<secret ephemeral='no' private='yes'><uuid>\(secret)</uuid><usage type='ceph'><name>\(domain) client.admin</name></usage></secret>"
            .write(to: folder.appendingPathComponent("secret.xml"), atomically: true, encoding: .utf8)
        try key.write(to: folder.appendingPathComponent("key.b64"), atomically: true, encoding: .utf8)
        try PoolTests.run("/usr/bin/virsh", ["-q", "-c", "qemu:///system", "secret-define", folder.appendingPathComponent("secret.xml").path])
        defer { _ = try? PoolTests.output("/usr/bin/virsh", ["-c", "qemu:///system", "secret-undefine", secret]) }
        try PoolTests.run("/usr/bin/virsh", ["-q", "-c", "qemu:///system", "secret-set-value", secret, "--file", folder.appendingPathComponent("key.b64").path])
        let original = try String(contentsOf: Self.repository.appendingPathComponent("systems/test001.swift"), encoding: .utf8)
        let file = folder.appendingPathComponent("systems/test001.swift")
        func write(content: String, extra: String = "", shutdown: String = ".clean") throws {
            try original.replacingOccurrences(of: "    HostName(\"test001\")\n", with: """
                    HostName("test001")
                    Deployment(to: .rbd("rbd", configuration: "\(cluster.configuration)"), disk: "test001-root", machine: .libvirt("\(domain)"),
                               ssh: "127.0.0.1:\(port)", shutdown: \(shutdown))
                    File("/etc/imagec-e2e", contents: "\(content)\\n")
                \(extra)
                """).write(to: file, atomically: true, encoding: .utf8)
        }
        try write(content: "one")
        // Locked afresh: the committed lock's versions leave the archive within weeks.
        let locked = try Self.imagec(["lock", "systems/test001.swift"], in: folder)
        #expect(locked.status == 0, "\(locked.output)")

        // The domain: its root disk is the pool's rbd/test001-root (absent until the first swap),
        // its network test001's own subnet through QEMU's user network.
        let model = try #require(try Evaluator.standard().evaluate(file.path).systems.first?.model)
        // The card in a slot libvirt leaves free on q35 (it fills slots 1–7 with root ports).
        let network = try #require(GuestNetwork.qemuArguments(for: model, sshPort: port))
            .map { $0.hasPrefix("virtio-net-pci,") ? $0 + ",bus=pcie.0,addr=0x10" : $0 }
        let xml = """
            <domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
              <name>\(domain)</name>
              <memory unit='MiB'>2048</memory>
              <vcpu>2</vcpu>
              <os><type arch='x86_64' machine='q35'>hvm</type></os>
              <features><acpi/></features>
              <on_reboot>restart</on_reboot>
              <devices>
                <disk type='network' device='disk'>
                  <driver name='qemu' type='raw'/>
                  <auth username='admin'><secret type='ceph' uuid='\(secret)'/></auth>
                  <source protocol='rbd' name='rbd/test001-root'><config file='\(cluster.configuration)'/></source>
                  <target dev='vda' bus='virtio'/>
                </disk>
                <serial type='file'><source path='\(folder.path)/console.log'/></serial>
                <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
              </devices>
              <qemu:commandline>
            \(network.map { "    <qemu:arg value='\($0)'/>" }.joined(separator: "\n"))
              </qemu:commandline>
            </domain>
            """
        try Self.define(xml, in: folder)
        defer { Self.undefine(domain) }

        // The plan, with nothing changed.
        let plan = try Self.imagec(["deploy", "--dry-run", "systems/test001.swift"], in: folder)
        #expect(plan.status == 0 && plan.output.contains("test001-root_candidate → test001-root; start it"), "\(plan.output)")
        #expect(try PoolTests.output("/usr/bin/virsh", ["-c", "qemu:///system", "domstate", domain]).hasPrefix("shut off"))

        // An untested digest is refused; once `imagec test` passed, it deploys.
        let refused = try Self.imagec(["deploy", "systems/test001.swift"], in: folder)
        #expect(refused.status != 0 && refused.output.contains("has not passed `imagec test`"), "\(refused.output)")
        // Boot timeouts for a loaded machine (three test processes, TCG): what is tested here is
        // the deployment, not how fast a guest boots.
        let tested = try Self.imagec(["test", "--firmware", "bios", "--boot-timeout", "900", "systems/test001.swift"], in: folder)
        #expect(tested.status == 0, "\(tested.output)")
        let first = try Self.imagec(["deploy", "--boot-timeout", "900", "systems/test001.swift"], in: folder, boots: true)
        #expect(first.status == 0 && first.output.contains("is healthy"), "\(first.output)")
        let publicKey = try String(contentsOf: folder.appendingPathComponent("secrets/hosts/test001/ssh_host_ed25519_key.pub"), encoding: .utf8)
        let hostKey = publicKey.split(separator: " ").prefix(2).joined(separator: " ")
        #expect(try Self.ssh("hostname; cat /etc/imagec-e2e", port: port, folder: folder, hostKey: hostKey) == "test001\none\n")

        // Changed: refused untested, deployed with --force; new content, the same host key.
        // Powered off once its file systems are flushed, not shut down.
        // With a second system whose machine does not exist: it fails alone, in the table.
        try write(content: "two", shutdown: ".powerOff")
        try original.replacingOccurrences(of: "    HostName(\"test001\")\n", with: """
                HostName("ghost001")
                Deployment(to: .rbd("rbd", configuration: "\(cluster.configuration)"), disk: "ghost001-root", machine: .libvirt("imagec-no-such-domain"))

            """).write(to: folder.appendingPathComponent("systems/ghost001.swift"), atomically: true, encoding: .utf8)
        // The lock written above, for a system of another name.
        try String(contentsOf: PackageLock.url(for: file), encoding: .utf8)
            .replacingOccurrences(of: "\"test001\"", with: "\"ghost001\"")
            .write(to: PackageLock.url(for: folder.appendingPathComponent("systems/ghost001.swift")), atomically: true, encoding: .utf8)
        let second = try Self.imagec(["deploy", "--force", "--boot-timeout", "900", "systems/test001.swift", "systems/ghost001.swift"], in: folder, boots: true)
        #expect(second.status == 4 && second.output.contains("is healthy") && second.output.contains("file systems frozen by the guest agent ("), "\(second.output)")
        #expect(second.output.contains("test001  ") && second.output.contains(" healthy ")
                && second.output.contains("ghost001  -     error") && second.output.contains("has no domain 'imagec-no-such-domain'"), "\(second.output)")
        #expect(try Self.ssh("cat /etc/imagec-e2e", port: port, folder: folder, hostKey: hostKey) == "two\n")

        // Broken (a check that cannot pass): rolled back by itself to "two".
        try write(content: "three", extra: "    Check.command(\"test -e /etc/imagec-never\", timeout: 5, name: \"never\")\n")
        let broken = try Self.imagec(["deploy", "--force", "--boot-timeout", "900", "systems/test001.swift"], in: folder, boots: true)
        #expect(broken.status == 4 && broken.output.contains("check 'never' failed") && broken.output.contains("rolling test001 back")
                && broken.output.contains("runs its previous image (sha256:"),
                "\(broken.output)")
        #expect(try Self.ssh("cat /etc/imagec-e2e", port: port, folder: folder, hostKey: hostKey) == "two\n")

        // The fleet view: it runs "two", its definition now builds the broken one (drift); swap 1's disk is kept.
        let status = try Self.imagec(["status", "systems/test001.swift"], in: folder)
        #expect(status.output.contains("no (drift)") && status.output.contains("test001-root_d1"), "\(status.output)")
        let statusJSON = try Self.imagec(["status", "--json", "systems/test001.swift"], in: folder)
        let hosts = try JSONSerialization.jsonObject(with: Data(statusJSON.output.utf8)) as? [[String: Any]]
        let host = try #require(hosts?.first { $0["host"] as? String == "test001" }, "\(statusJSON.output)")
        #expect(host["drift"] as? Bool == true && (host["runs"] as? String)?.hasPrefix("sha256:") == true
                && (host["rollbackTargets"] as? [String])?.contains("test001-root_d1") == true, "\(statusJSON.output)")
        // Back one more generation by hand, from the ledger alone; imagec is killed halfway,
        // the machine stopped and its root disk renamed away: `deploy --resume` finishes the
        // swap, and the machine boots the image it rolled back to.
        let (killed, killedLog) = try Self.start(["rollback", "test001"], in: folder, environment: ["IMAGEC_PAUSE_BEFORE": "promote"])
        let deadline = Date().addingTimeInterval(300)
        while killed.isRunning, Date() < deadline, !((try? String(contentsOf: killedLog, encoding: .utf8)) ?? "").contains("paused before promote") {
            usleep(200_000)
        }
        #expect(killed.isRunning, "\((try? String(contentsOf: killedLog, encoding: .utf8)) ?? "")")
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        #expect(try PoolTests.output("/usr/bin/virsh", ["-c", "qemu:///system", "domstate", domain]).hasPrefix("shut off"))
        let resumed = try Self.imagec(["deploy", "--resume", "--boot-timeout", "900"], in: folder, boots: true)
        #expect(resumed.status == 0 && resumed.output.contains("is healthy"), "\(resumed.output)")
        #expect(try Self.ssh("cat /etc/imagec-e2e", port: port, folder: folder, hostKey: hostKey) == "one\n")
        let history = try Self.imagec(["status", "--history"], in: folder)
        #expect(history.output.components(separatedBy: " healthy ").count == 4 && history.output.contains(" failed "), "\(history.output)")
    }
}
