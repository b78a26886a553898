@testable import BootTest
import BootServer
import DefinitionEvaluation
import Foundation
import ImagecCore
import ImageDSL
import Testing

/// `imagec deploy` of a bare-metal machine end to end, on an emulated one: a libvirt domain under
/// TCG with a root disk known by its serial number, a second disk holding `/home` (XFS, with a
/// user's files), a NIC with QEMU's iPXE ROM, and real BMC emulators on 127.0.0.1: sushy-tools
/// (Redfish) and virtualbmc (IPMI, for the redeploy). Its network is the lab's as the machine sees it: a QEMU user network (its DHCP
/// names `imagec serve`'s `/boot.ipxe` as the boot file, its host address reaches 127.0.0.1,
/// and SSH is forwarded from 127.0.0.1), run by a machine-less QEMU the domain's NIC connects to
/// over a socket on 127.0.0.1.
///
/// An empty disk is installed through the network (slot A); redeployed in place after a one-file
/// change and powered off by its BMC in the middle of the write (back on slot A); redeployed
/// through the network and IPMI (slot B, almost nothing fetched); rolled back by hand in place
/// (slot A); redeployed in place with imagec killed in the middle of the write and again before
/// the checks, and resumed (slot B, the BMC never asked for anything); given in place an image
/// with a unit that fails (a kexec back), one whose kernel panics, and one whose init never
/// starts (the watchdog resets it), each time back on slot B. `/home` and the host key stay.
/// `imagec serve` is killed and restarted in the middle of the first install. Before any of it, an untested image and a wrong BMC password
/// are refused with nothing touched.
@Suite(.serialized)
struct BareMetalDeployTests {
    /// The emulated machine, its BMC, its network and the boot server.
    final class Machine: @unchecked Sendable {
        let folder: URL
        let name: String
        let uuid: String
        let mac = "52:54:00:b3:00:01"
        let sshPort = Int.random(in: 30000..<40000)
        let bmcPort = BMCTests.freePort()
        let ipmiPort = BMCTests.freePort()
        let state: BootState
        private var daemons: [BMCTests.Daemon] = []
        private var server: ServeProcess?
        private let stopped = Cut()

        init(folder: URL) throws {
            self.folder = folder
            name = "imagec-bm-\(folder.lastPathComponent.suffix(8))"
            state = BootState(directory: folder.appendingPathComponent("boot"))
            try DeployTests.ensureLibvirtd()
            try Self.shell("truncate -s 8G root.raw", in: folder)
            // One virtual CPU: with two, on a host whose two cores run the rest of the suite, a
            // kernel just kexec'd was seen stuck in soft lockups and RCU stalls (one vCPU waiting on
            // the other, descheduled) until the watchdog reset it: right for the machine, not the test.
            try DeployTests.define("""
                <domain type='qemu'>
                  <name>\(name)</name>
                  <memory unit='MiB'>2048</memory>
                  <vcpu>1</vcpu>
                  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
                  <features><acpi/></features>
                  <on_reboot>destroy</on_reboot>
                  <devices>
                    <emulator>/usr/bin/qemu-system-x86_64</emulator>
                    <disk type='file' device='disk'>
                      <driver name='qemu' type='raw' discard='unmap' detect_zeroes='unmap'/>
                      <source file='\(folder.path)/root.raw'/><target dev='vda' bus='virtio'/><serial>IMAGEC-BM-ROOT</serial>
                    </disk>
                    <disk type='file' device='disk'>
                      <driver name='qemu' type='raw'/>
                      <source file='\(folder.path)/home.raw'/><target dev='vdb' bus='virtio'/><serial>IMAGEC-BM-HOME</serial>
                    </disk>
                    <interface type='client'>
                      <mac address='\(mac)'/><source address='127.0.0.1' port='\(sshPort + 1)'/><model type='virtio'/>
                    </interface>
                    <serial type='file'><source path='\(folder.path)/console.log' append='on'/></serial>
                    <watchdog model='i6300esb' action='reset'/>
                  </devices>
                </domain>
                """, in: folder)
            uuid = try PoolTests.output("/usr/bin/virsh", ["-c", "qemu:///system", "domuuid", name]).trimmingCharacters(in: .whitespacesAndNewlines)
            startFirmware()
        }

        /// A server's firmware reads the boot order its BMC set last at every reset, but a running
        /// QEMU keeps the one it started with (libvirt applies the emulators' changes at the next
        /// start): a machine network-booted once would go on network-booting, with its disk out of
        /// the BIOS's list. So a reset (a reboot, a panic's, the watchdog's) stops the domain
        /// (`on_reboot` destroy), and this starts it again, afresh; a power-off by the BMC
        /// (destroyed, not shut down) is left off.
        private func startFirmware() {
            let name = self.name, stopped = self.stopped
            Thread.detachNewThread {
                while !stopped.done {
                    if let state = try? PoolTests.output("/usr/bin/virsh", ["-c", "qemu:///system", "domstate", "--reason", name]),
                       state.hasPrefix("shut off (shutdown)"), !stopped.done {
                        _ = try? PoolTests.output("/usr/bin/virsh", ["-c", "qemu:///system", "start", name])
                    }
                    sleep(1)
                }
            }
        }

        /// `/home`: an XFS file system labelled `home` holding alice's files (made without
        /// mounting it, from a prototype file).
        func makeHome(files: [String: Data]) throws {
            let source = folder.appendingPathComponent("home-files")
            try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
            var prototype = "/dev/null\n0 0\nd--755 0 0\nalice d--750 2001 2001\n"
            for (name, contents) in files.sorted(by: { $0.key < $1.key }) {
                try contents.write(to: source.appendingPathComponent(name))
                prototype += " \(name) ---640 2001 2001 \(source.path)/\(name)\n"
            }
            try (prototype + "$\n$\n").write(to: folder.appendingPathComponent("home.proto"), atomically: true, encoding: .utf8)
            try Self.shell("truncate -s 1G home.raw && mkfs.xfs -q -L home -p home.proto home.raw", in: folder)
        }

        /// sushy-tools for the domain, with user admin and password `secret`.
        func startBMC() throws {
            let hash = try PoolTests.output(BMCTests.emulators.appendingPathComponent("python").path,
                                            ["-c", "import bcrypt; print(bcrypt.hashpw(b'secret', bcrypt.gensalt(rounds=4)).decode())"])
            try "admin:\(hash)".write(to: folder.appendingPathComponent("htpasswd"), atomically: true, encoding: .utf8)
            try """
                SUSHY_EMULATOR_AUTH_FILE = '\(folder.path)/htpasswd'
                SUSHY_EMULATOR_LIBVIRT_URI = 'qemu:///system'
                SUSHY_EMULATOR_ALLOWED_INSTANCES = ['\(uuid)']

                """.write(to: folder.appendingPathComponent("sushy.conf"), atomically: true, encoding: .utf8)
            daemons.append(try BMCTests.Daemon(BMCTests.emulators.appendingPathComponent("sushy-emulator"),
                                               ["--config", folder.appendingPathComponent("sushy.conf").path, "-i", "127.0.0.1", "-p", String(bmcPort)],
                                               log: folder.appendingPathComponent("sushy.log")))
        }

        /// virtualbmc for the domain (IPMI on `ipmiPort`), with user admin and password `secret`.
        func startIPMI() throws {
            let configuration = folder.appendingPathComponent("virtualbmc.conf")
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("vbmc"), withIntermediateDirectories: true)
            try "[default]\nconfig_dir = \(folder.path)/vbmc\npid_file = \(folder.path)/vbmcd.pid\nserver_port = \(BMCTests.freePort())\n"
                .write(to: configuration, atomically: true, encoding: .utf8)
            let environment = ["VIRTUALBMC_CONFIG": configuration.path]
            daemons.append(try BMCTests.Daemon(BMCTests.emulators.appendingPathComponent("vbmcd"), ["--foreground"], environment: environment,
                                               log: folder.appendingPathComponent("vbmcd.log")))
            func vbmc(_ arguments: [String]) -> Int32 {
                let process = Process()
                process.executableURL = BMCTests.emulators.appendingPathComponent("vbmc")
                process.arguments = arguments
                process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                guard (try? process.run()) != nil else { return -1 }
                process.waitUntilExit()
                return process.terminationStatus
            }
            try BMCTests.wait("vbmcd") {
                vbmc(["add", name, "--port", String(ipmiPort), "--address", "127.0.0.1", "--username", "admin", "--password", "secret",
                      "--libvirt-uri", "qemu:///system"]) == 0
            }
            guard vbmc(["start", name]) == 0 else { throw BootServerError("vbmc start \(name) failed") }
        }

        /// `imagec serve`, then the network that names it as the boot file: `model`'s own subnet.
        func startNetwork(for model: SystemModel) throws {
            let server = try ServeProcess(state: state)
            self.server = server
            let arguments = try #require(GuestNetwork.qemuArguments(for: model, sshPort: sshPort))
            let user = try #require(arguments.firstIndex(of: "-netdev").map { arguments[$0 + 1] })
            let host = try #require(user.firstMatch(of: /host=([0-9.]+)/)?.1)
            // Not restricted: the installer reaches imagec serve at the host's address.
            let netdev = user.split(separator: ",").filter { $0 != "restrict=on" && !$0.hasPrefix("id=") }.joined(separator: ",")
                + ",id=lan,bootfile=http://\(host):\(server.port)/boot.ipxe"
            daemons.append(try BMCTests.Daemon(URL(fileURLWithPath: "/usr/bin/qemu-system-x86_64"), [
                "-M", "none", "-nographic", "-nodefaults", "-netdev", netdev,
                "-netdev", "socket,id=machine,listen=127.0.0.1:\(sshPort + 1)",
                "-netdev", "hubport,id=p0,hubid=0,netdev=lan", "-netdev", "hubport,id=p1,hubid=0,netdev=machine",
            ], log: folder.appendingPathComponent("lan.log")))
        }

        /// The credentials file a definition names.
        func credentials(_ text: String) throws -> String {
            let file = folder.appendingPathComponent("bmc-\(UUID().uuidString.prefix(6))")
            try text.write(to: file, atomically: false, encoding: .utf8)
            chmod(file.path, 0o600)
            return file.path
        }

        var domainState: String {
            (try? PoolTests.output("/usr/bin/virsh", ["-c", "qemu:///system", "domstate", name]))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }

        /// What the installers reported, every deploy's, in no order.
        var reports: [InstallerReport] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: state.directory.appendingPathComponent("reports").path)) ?? []
            return names.filter { $0.hasSuffix(".jsonl") }.flatMap { state.reports(token: String($0.dropLast(6))) }
        }

        /// The deploys' tokens whose reports there are so far.
        var reportedTokens: Set<String> {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: state.directory.appendingPathComponent("reports").path)) ?? []
            return Set(names.filter { $0.hasSuffix(".jsonl") }.map { String($0.dropLast(6)) })
        }

        /// The power actions the Redfish BMC was asked for so far (resets, boot overrides).
        var redfishActions: Int {
            let log = (try? String(contentsOf: folder.appendingPathComponent("sushy.log"), encoding: .utf8)) ?? ""
            return log.split(separator: "\n").filter { $0.contains("ComputerSystem.Reset") || $0.contains("\"PATCH ") }.count
        }

        /// `imagec serve` killed (SIGKILL, in the middle of what it streams) and started again on its port.
        func restartServer() throws {
            guard let old = server else { return }
            old.kill()
            usleep(500_000)
            server = try ServeProcess(state: state, port: old.port)
        }

        func stop() {
            stopped.done = true
            server?.stop()
            daemons.forEach { $0.stop() }
            DeployTests.undefine(name)
        }

        static func shell(_ script: String, in folder: URL) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-euc", script]
            process.currentDirectoryURL = folder
            try process.start()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw BootServerError("the fixture's script failed: \(script)") }
        }
    }

    final class Cut: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var done: Bool {
            get { lock.withLock { value } }
            set { lock.withLock { value = newValue } }
        }
    }

    @Test func installRedeployAndRollBackThroughRedfish() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-baremetal-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("systems"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: DeployTests.repository.appendingPathComponent("templates"), to: folder.appendingPathComponent("templates"))
        try FileManager.default.copyItem(at: DeployTests.repository.appendingPathComponent("systems/installer.swift"),
                                         to: folder.appendingPathComponent("systems/installer.swift"))
        let machine = try Machine(folder: folder)
        defer { machine.stop() }
        let alice = ["results.bin": Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }),
                     "notes.txt": Data("alice's notes\n".utf8)]
        try machine.makeHome(files: alice)
        try machine.startBMC()

        let file = folder.appendingPathComponent("systems/bm001.swift")
        let goodCredentials = try machine.credentials("admin:secret\n")
        let redfish = ".redfish(\"http://127.0.0.1:\(machine.bmcPort)\", system: \"\(machine.uuid)\", credentialsFile: \"\(goodCredentials)\")"
        func write(content: String, extra: String = "", bmc: String = redfish) throws {
            try """
                import ImageDSL

                let system = OperatingSystem(inheriting: Lab.oneDiskVM(address: "10.50.103.202", on: .testnet)) {
                    HostName("bm001")
                    // Debian's generic kernel, as a server runs: its watchdog driver (i6300esb) is
                    // not in the cloud kernel, which has a third fewer bytes.
                    Disk(rootSize: .gibibytes(2), minimumRootSize: .gibibytes(2), rootSlots: .ab) {
                        PersistentVolume("home", mountPoint: "/home", size: .gibibytes(1), fileSystem: .xfs)
                    }
                    Packages("xfsprogs")
                    // A kernel started by kexec under TCG, on a host as busy as the suite's, can hang in the
                    // early check of its timer interrupt ("MP-BIOS bug: 8254 timer not connected to IO-APIC",
                    // then nothing) until the watchdog resets the machine: the emulated machine skips the check.
                    KernelArguments("no_timer_check")
                    Deployment(bareMetal: BareMetal(
                        bmc: \(bmc),
                        bootMAC: "\(machine.mac)", rootDisk: .serial("IMAGEC-BM-ROOT")), ssh: "127.0.0.1:\(machine.sshPort)")
                    File("/etc/imagec-e2e", contents: "\(content)\\n")
                \(extra)}

                """.write(to: file, atomically: true, encoding: .utf8)
        }
        try write(content: "one")
        let environment = ["IMAGEC_BOOT_STATE": machine.state.directory.path]
        func imagec(_ arguments: [String], boots: Bool = false) throws -> DeployTests.Run {
            try DeployTests.imagec(arguments, in: folder, environment: environment, boots: boots)
        }
        // Locked afresh: the committed locks' versions leave the archive within weeks.
        for system in ["bm001", "installer"] {
            let locked = try imagec(["lock", "systems/\(system).swift"])
            #expect(locked.status == 0, "\(locked.output)")
        }
        let model = try #require(try Evaluator.standard().evaluate(file.path).systems.first?.model)
        try machine.startNetwork(for: model)
        try BMCTests.wait("sushy-emulator") { (try? PoolTests.output("/usr/bin/curl", ["-sf", "-u", "admin:secret", "http://127.0.0.1:\(machine.bmcPort)/redfish/v1/Systems"])) != nil }

        // Refused before anything is touched: an untested image, a wrong BMC password.
        let untested = try imagec(["deploy", "systems/bm001.swift"])
        #expect(untested.status != 0 && untested.output.contains("has not passed `imagec test`"), "\(untested.output)")
        try write(content: "one", bmc: redfish.replacingOccurrences(of: goodCredentials, with: try machine.credentials("admin:wrong\n")))
        let wrongPassword = try imagec(["deploy", "--force", "systems/bm001.swift"])
        #expect(wrongPassword.status != 0 && wrongPassword.output.contains("refused user 'admin' (HTTP 401)"), "\(wrongPassword.output)")
        #expect(machine.domainState == "shut off")
        #expect(!FileManager.default.fileExists(atPath: machine.state.directory.appendingPathComponent("pending").path))

        // The empty disk installed: network boot, slot A, kexec, checks; /home as it was.
        // `imagec serve` is killed in the middle of the image's stream and started again: the
        // installer's requests are retried, and every block is checked.
        try write(content: "one")
        let restarted = Cut()
        DispatchQueue.global().async {
            let deadline = Date().addingTimeInterval(1200)
            while Date() < deadline, !restarted.done {
                if machine.reports.contains(where: { $0.kind == .progress && $0.slot == "a" && ($0.fetched ?? 0) > 128 << 20 }) {
                    try? machine.restartServer()
                    restarted.done = true
                }
                usleep(300_000)
            }
        }
        let first = try imagec(["deploy", "--force", "--boot-timeout", "900", "systems/bm001.swift"], boots: true)
        #expect(restarted.done, "imagec serve was not restarted during the install")
        restarted.done = true
        #expect(first.status == 0 && first.output.contains("is healthy") && first.output.contains("slot a is bm001's default now"), "\(first.output)")
        let publicKey = try String(contentsOf: folder.appendingPathComponent("secrets/hosts/bm001/ssh_host_ed25519_key.pub"), encoding: .utf8)
        let hostKey = publicKey.split(separator: " ").prefix(2).joined(separator: " ")
        func ssh(_ command: String) throws -> String { try DeployTests.ssh(command, port: machine.sshPort, folder: folder, hostKey: hostKey) }
        let homeSums = alice.keys.sorted().map { "\(CanonicalJSON.sha256(alice[$0]!))  /home/alice/\($0)" }.joined(separator: "\n") + "\n"
        let probe = "hostname; cat /etc/imagec-e2e; lsblk -no PARTLABEL \"$(findmnt -no SOURCE /)\"; cd /home/alice && sha256sum \(alice.keys.sorted().joined(separator: " ")) | sed 's|  |  /home/alice/|'"
        #expect(try ssh(probe) == "bm001\none\nroot-a\n" + homeSums)

        // One file changed, deployed in place (the running system writes slot B), and the machine
        // powered off by its BMC in the middle of the write: the deploy fails, the machine is
        // powered on again and boots slot A.
        try write(content: "two")
        let cut = Cut()
        DispatchQueue.global().async {
            let deadline = Date().addingTimeInterval(1200)
            while Date() < deadline, !cut.done {
                if machine.reports.contains(where: { $0.kind == .progress && $0.slot == "b" && ($0.written ?? 0) > 64 << 20 }) {
                    _ = try? PoolTests.output("/usr/bin/curl", [
                        "-sf", "-u", "admin:secret", "-H", "Content-Type: application/json", "-d", "{\"ResetType\": \"ForceOff\"}",
                        "http://127.0.0.1:\(machine.bmcPort)/redfish/v1/Systems/\(machine.uuid)/Actions/ComputerSystem.Reset"])
                    cut.done = true
                }
                usleep(300_000)
            }
        }
        let interrupted = try imagec(["deploy", "--force", "--boot-timeout", "900", "systems/bm001.swift"], boots: true)
        cut.done = true
        #expect(interrupted.status == 4 && interrupted.output.contains("writes slot b while it runs slot a, over SSH")
                && interrupted.output.contains("was powered off while its agent ran")
                && interrupted.output.contains("runs its previous image (sha256:"), "\(interrupted.output)")
        #expect(try ssh(probe) == "bm001\none\nroot-a\n" + homeSums)

        // Through the network, with the BMC reached by IPMI (virtualbmc): slot B, almost nothing
        // fetched; the same host key, /home intact.
        try machine.startIPMI()
        try write(content: "two", bmc: ".ipmi(\"127.0.0.1\", port: \(machine.ipmiPort), credentialsFile: \"\(goodCredentials)\")")
        let second = try imagec(["deploy", "--force", "--via", "network", "--boot-timeout", "900", "systems/bm001.swift"], boots: true)
        #expect(second.status == 0 && second.output.contains("slot b is bm001's default now") && second.output.contains("through ipmi"), "\(second.output)")
        #expect(try ssh(probe) == "bm001\ntwo\nroot-b\n" + homeSums)
        let fetched = try #require(machine.reports.first { $0.kind == .done && $0.slot == "b" }?.fetched)
        let image = try #require(try FileManager.default.contentsOfDirectory(at: folder.appendingPathComponent("store"), includingPropertiesForKeys: [.contentModificationDateKey])
            .filter { $0.lastPathComponent.hasSuffix("-bm001") }
            .max { (try $0.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate!) < (try $1.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate!) })
        var info = stat()
        stat(image.appendingPathComponent("disk.raw").path, &info)
        let allocated = Int(info.st_blocks) * 512
        #expect(fetched * 20 < allocated, "fetched \(fetched) bytes of an image of \(allocated) allocated")

        // Back by hand, in place: the running system kexecs into slot A on trial, which becomes
        // the default once checked.
        try write(content: "two")
        let back = try imagec(["rollback", "--boot-timeout", "900", "bm001"], boots: true)
        #expect(back.status == 0 && back.output.contains("kexecs into slot a, on trial") && back.output.contains("slot a is bm001's default now"), "\(back.output)")
        #expect(try ssh(probe) == "bm001\none\nroot-a\n" + homeSums)

        // One file changed, in place: imagec is killed (SIGKILL) in the middle of the slot's write;
        // the machine keeps running slot A; `--resume` finishes the deploy. No network boot, the
        // BMC never asked for anything; almost nothing sent; the same host key, /home intact.
        try write(content: "three")
        let actions = machine.redfishActions, tokens = machine.reportedTokens
        let (killed, killedLog) = try DeployTests.start(["deploy", "--force", "--boot-timeout", "900", "systems/bm001.swift"], in: folder, environment: environment)
        let killDeadline = Date().addingTimeInterval(900)
        while Date() < killDeadline, killed.isRunning,
              !machine.reportedTokens.subtracting(tokens).contains(where: { token in
                  machine.state.reports(token: token).contains { $0.kind == .step && $0.step == "write slot" } }) {
            usleep(200_000)
        }
        sleep(3)
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        #expect(try String(contentsOf: killedLog, encoding: .utf8).contains("writes slot b while it runs slot a"))
        #expect(try ssh(probe) == "bm001\none\nroot-a\n" + homeSums)
        // Resumed, and killed again once the machine runs slot B on trial, before its checks.
        let (paused, pausedLog) = try DeployTests.start(["deploy", "--resume", "--boot-timeout", "900"], in: folder,
                                                        environment: environment.merging(["IMAGEC_PAUSE_BEFORE": "check"]) { $1 })
        let pauseDeadline = Date().addingTimeInterval(900)
        while Date() < pauseDeadline, paused.isRunning,
              !((try? String(contentsOf: pausedLog, encoding: .utf8))?.contains("paused before check") ?? false) {
            usleep(200_000)
        }
        kill(paused.processIdentifier, SIGKILL)
        paused.waitUntilExit()
        #expect(try String(contentsOf: pausedLog, encoding: .utf8).contains("slot b written; bm001 kexecs into it on trial"))
        let resumed = try imagec(["deploy", "--resume", "--boot-timeout", "900"], boots: true)
        #expect(resumed.status == 0 && resumed.output.contains("slot b is bm001's default now"), "\(resumed.output)")
        #expect(try ssh(probe) == "bm001\nthree\nroot-b\n" + homeSums)
        #expect(machine.redfishActions == actions, "the BMC was asked to act during a deploy in place")
        let sent = machine.reportedTokens.subtracting(tokens).flatMap { machine.state.reports(token: $0) }
            .filter { $0.kind == .done }.compactMap(\.fetched).reduce(0, +)
        #expect(sent > 0 && sent * 20 < allocated, "sent \(sent) bytes of an image of \(allocated) allocated")
        #expect(try ssh("grep -a -o 'default_slot=b' /boot/efi/grub/grubenv") == "default_slot=b\n")

        // A unit that fails, so the boot check does: slot A written in place, then a kexec back
        // to slot B, which the boot loader kept as its default.
        try write(content: "four", extra: #"    SystemdUnit("imagec-broken.service", contents: "[Service]\nType=oneshot\nExecStart=/bin/false\n[Install]\nWantedBy=multi-user.target\n")"# + "\n")
        let broken = try imagec(["deploy", "--force", "--boot-timeout", "900", "systems/bm001.swift"], boots: true)
        #expect(broken.status == 4 && broken.output.contains("check 'boot' failed") && broken.output.contains("imagec-broken.service") && broken.output.contains("rolling bm001 back")
                && broken.output.contains("kexecs back into its default slot, b")
                && broken.output.contains("runs its previous image (sha256:"), "\(broken.output)")
        #expect(try ssh(probe) == "bm001\nthree\nroot-b\n" + homeSums)
        #expect(try ssh("grep -a -o 'failed_slot=a' /boot/efi/grub/grubenv") == "failed_slot=a\n")
        // A kernel that panics early in the boot: it resets (panic=10), and the boot loader boots
        // slot B, not the used-up trial; the deploy sees the machine on slot B and needs no power cycle.
        try write(content: "five", extra: #"    SystemdUnit("imagec-panic.service", contents: "[Unit]\nDefaultDependencies=no\n[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo c > /proc/sysrq-trigger'\n[Install]\nWantedBy=sysinit.target\n")"# + "\n")
        let panicking = try imagec(["deploy", "--force", "--boot-timeout", "900", "systems/bm001.swift"], boots: true)
        #expect(panicking.status == 4 && panicking.output.contains("check 'slot a' failed") && panicking.output.contains("slot a did not stay up")
                && panicking.output.contains("came back on its default slot, b, by itself (its boot loader recorded the failed try of slot a)")
                && panicking.output.contains("runs its previous image (sha256:"), "\(panicking.output)")
        #expect(try ssh(probe) == "bm001\nthree\nroot-b\n" + homeSums)
        let console = { (try? String(contentsOf: folder.appendingPathComponent("console.log"), encoding: .utf8)) ?? "" }
        #expect(console().components(separatedBy: "Kernel panic").count == 2)
        // A system that hangs before user space (its init never starts): the watchdog, armed
        // through the kexec, resets the machine, which boots slot B by itself.
        try write(content: "six", extra: #"    KernelArguments("init=/bin/sh")"# + "\n")
        let hanging = try imagec(["deploy", "--force", "--boot-timeout", "900", "--watchdog-timeout", "60", "systems/bm001.swift"], boots: true)
        #expect(hanging.status == 4 && hanging.output.contains("check 'slot a' failed")
                && hanging.output.contains("came back on its default slot, b, by itself"), "\(hanging.output)")
        #expect(try ssh(probe) == "bm001\nthree\nroot-b\n" + homeSums)
        #expect(console().components(separatedBy: "Kernel panic").count == 2, "the hanging system panicked instead")
        #expect(machine.redfishActions == actions, "the BMC was asked to act during a deploy in place")
        // Both slots in `imagec status`: B the default and running, A the hang's given-up try.
        let status = try imagec(["status"]).output
        let rows = status.split(separator: "\n").map(String.init)
        #expect(status.contains("bm001's root slots:") && rows.contains { $0.wholeMatch(of: /b +[0-9a-f]{12} +\d+ +yes +yes */) != nil }
                && rows.contains { row in row.wholeMatch(of: /a +[0-9a-f]{12} +(\d+) +swap (\d+)/).map { $0.1 == $0.2 } ?? false }, "\(status)")

        // Slot A no longer holds what the rollback left: a plain rollback says so, touching nothing.
        let stale = try imagec(["rollback", "bm001"])
        #expect(stale.status != 0 && stale.output.contains("no longer holds the image"), "\(stale.output)")
        let history = try imagec(["status", "--history"])
        #expect(history.output.components(separatedBy: " healthy ").count == 5 && history.output.components(separatedBy: " failed ").count == 5,
                "\(history.output)")
    }
}
