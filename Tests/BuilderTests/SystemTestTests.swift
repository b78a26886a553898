@testable import BootTest
@testable import Checks
import Foundation
@testable import ImagecCore
import ImageDSL
import Testing

/// `imagec test` end to end under QEMU (TCG here): a good system (whose sshd lets in only
/// group adm: the test channel must still get in, and whose data volume is `/dev/sdb`: the
/// test machine must give a disk that name) passes with SeaBIOS and OVMF; a check on a missing package, a unit that fails and a kernel argument that kills
/// init each fail with the right message; a guest too slow for the boot timeout fails with
/// the console's tail; Ctrl-C leaves no QEMU and no overlay.
@Suite(.serialized)
struct SystemTestTests {
    static func definition(_ extra: String = "") -> String {
        """
        import ImageDSL

        let system = OperatingSystem {
            HostName("tested1")
            KernelArguments("net.ifnames=0")
            SerialConsole()
            OpenSSH(permitRootLogin: .no, extraConfig: ["AllowGroups adm"])
            Network { Interface("eth0", .dhcp) }
            User("alice", uid: 2001)
            Disk(rootSize: .gibibytes(2), minimumRootSize: .gibibytes(1)) {
                PersistentVolume("data", mountPoint: "/data", size: .gibibytes(1), device: "/dev/sdb")
            }
            Check.command("cat /etc/motd", prints: "TESTED", name: "motd")
            File("/etc/motd", contents: "TESTED\\n")
        \(extra)
        }

        """
    }

    /// QEMU processes whose command line mentions `folder`.
    func machines(in folder: URL) -> [String] {
        let ps = Process()
        ps.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
        ps.arguments = ["-f", "qemu-system.*\(folder.path)"]
        let pipe = Pipe()
        ps.standardOutput = pipe
        try? ps.start()
        ps.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// The disk a device-named persistent volume gets in the test machine.
    @Test func standInDisks() {
        #expect(ImageTester.standIn(for: "/dev/sdb")! == (.scsi, 1))
        #expect(ImageTester.standIn(for: "/dev/vdc")! == (.virtio, 2))
        #expect(ImageTester.standIn(for: "/dev/nvme1n1")! == (.nvme, 1))
        for device in ["/dev/sda", "/dev/md0", "/dev/disk/by-id/wwn-0x5000", "/dev/nvme0n1p2", "/dev/sdb1"] {
            #expect(ImageTester.standIn(for: device) == nil, "\(device)")
        }
    }

    /// The test card takes the image's own network where it can.
    @Test func guestNetworks() {
        func model(_ interface: Interface, _ arguments: [String] = []) -> SystemModel {
            OperatingSystem {
                HostName("n1")
                KernelArguments(arguments)
                Network { interface }
            }.resolve().model!
        }
        let bigmem = GuestNetwork(for: model(Interface("eno1", address: "10.8.0.42/16", gateway: "10.8.255.254")))
        #expect(bigmem == GuestNetwork(guestAddress: "10.8.0.42", userNetwork: ["net=10.8.0.0/16", "host=10.8.255.254", "dns=10.8.0.3", "dhcpstart=10.8.0.4"], cardOptions: ["id=net0"],
                                       extraArguments: ["-smbios", "type=41,designation=Onboard LAN,instance=1,kind=ethernet,pcidev=net0"],
                                       needsInjection: false))
        let slot = GuestNetwork(for: model(Interface("enp0s10", .dhcp)))
        #expect(slot.cardOptions == ["addr=0xa"] && slot.guestAddress == "10.0.2.15" && !slot.needsInjection)
        #expect(!GuestNetwork(for: model(Interface("eth0", .dhcp), ["net.ifnames=0"])).needsInjection)
        #expect(GuestNetwork(for: model(Interface("eth0", address: "10.50.103.201/16", gateway: "10.50.255.254"))) == .fallback)
        #expect(GuestNetwork(for: model(Interface("ens18", .dhcp))) == .fallback)
    }

    /// A failed network mount (its server is outside the test network) does not fail `boot`.
    @Test func siteMountsDoNotFailTheBoot() {
        #expect(CheckRunner.mountUnit(for: "/home") == "home.mount")
        #expect(CheckRunner.mountUnit(for: "/export/my-data/") == #"export-my\x2ddata.mount"#)
        let model = OperatingSystem {
            HostName("n1")
            NFSMount("nfs.lab.example:/export/home", at: "/home")
        }.resolve().model!
        let shell = GuestShell(port: 22, key: URL(fileURLWithPath: "/nonexistent"), scratch: FileManager.default.temporaryDirectory)
        let runner = CheckRunner(shell: shell, siteMounts: CheckRunner.siteMounts(of: model))
        #expect(runner.siteMounts == ["home.mount"])
        #expect(runner.judge(.bootCompleted, status: 0, output: "degraded\nhome.mount loaded failed failed /home\n") == .pass)
        #expect(runner.judge(.bootCompleted, status: 0, output: "degraded\nhome.mount loaded failed failed /home\nbroken.service loaded failed failed x\n") == .fail)
        #expect(runner.judge(.bootCompleted, status: 0, output: "degraded\n") == .fail)
    }

    @Test func testFromTheCommandLine() throws {
        let folder = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("systems/tested1.swift")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Self.definition().write(to: file, atomically: true, encoding: .utf8)
        let store = try Support.store(folder.appendingPathComponent("store"))
        let imagec = BuildTests.Imagec(folder: folder)

        // A good system passes with both firmwares; the record says so.
        // Boot timeouts for a loaded machine (the suite's three processes under TCG): a guest took
        // over 300 s to answer beside them. What is tested here is the checks, not the boot's speed.
        let good = try imagec.run("test", "--boot-timeout", "900", "systems/tested1.swift")
        #expect(good.status == 0, "\(good.standardError)")
        #expect(good.standardError.contains("accelerator: "))
        for line in ["pass boot", "pass host name", "pass users", "pass motd", "pass unit ssh.service active", "pass port 22/tcp listening",
                     "pass mounted /data"] {
            #expect(good.standardError.components(separatedBy: line).count == 3, "'\(line)' should appear once per firmware")
        }
        #expect(good.standardOutput.contains("passed tested1 bios") && good.standardOutput.contains("passed tested1 uefi"))
        let shown = try imagec.run("show", "--status", "systems/tested1.swift")
        #expect(shown.standardOutput.contains("status       passed with bios on ") && shown.standardOutput.contains("passed with uefi on "))
        let tests = try FileManager.default.contentsOfDirectory(atPath: store.root.appendingPathComponent(".tests").path)
        #expect(tests.count == 1 && tests[0].hasSuffix("-tested1"))
        let runs = try FileManager.default.contentsOfDirectory(atPath: store.root.appendingPathComponent(".tests/\(tests[0])").path)
        #expect(runs.count == 2)
        for run in runs {
            let console = String(decoding: try Data(contentsOf: store.root.appendingPathComponent(".tests/\(tests[0])/\(run)/console.log")), as: UTF8.self)
            #expect(console.contains("tested1 login:"))
        }

        // A check relying on a package the system lacks: the same image (checks are not part of
        // the digest), the failing check and its output, exit status 4.
        try Self.definition(#"    Check.command("tcpdump --version", timeout: 3, name: "tcpdump")"#).write(to: file, atomically: true, encoding: .utf8)
        let missing = try imagec.run("test", "--firmware", "bios", "--boot-timeout", "900", "systems/tested1.swift")
        #expect(missing.status == 4)
        #expect(missing.standardError.contains("FAIL tcpdump") && missing.standardError.contains("not found"), "\(missing.standardError)")
        #expect(missing.standardError.contains("FAILED: check failed: tcpdump") && missing.standardError.contains("last 60 lines of the console"),
                "\(missing.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root.appendingPathComponent(".tests").path).count == 1)

        // A unit that fails to start: the boot check names it.
        try Self.definition(#"""
                SystemdUnit("broken.service", contents: "[Service]\nType=oneshot\nExecStart=/bin/false\n[Install]\nWantedBy=multi-user.target\n")
            """#).write(to: file, atomically: true, encoding: .utf8)
        let broken = try imagec.run("test", "--firmware", "uefi", "--boot-timeout", "900", "systems/tested1.swift")
        #expect(broken.status == 4)
        #expect(broken.standardError.contains("FAIL boot") && broken.standardError.contains("broken.service"), "\(broken.standardError)")
        let status = try imagec.run("show", "--status", "systems/tested1.swift")
        #expect(status.standardOutput.contains("FAILED with uefi"))

        // A kernel argument that kills init: recognised as a kernel panic.
        try Self.definition(#"    KernelArguments("init=/bin/false")"#).write(to: file, atomically: true, encoding: .utf8)
        let panic = try imagec.run("test", "--firmware", "bios", "--boot-timeout", "900", "systems/tested1.swift")
        #expect(panic.status == 4)
        #expect(panic.standardError.contains("FAILED: kernel panic: ") && panic.standardError.contains("Attempted to kill init"), "\(panic.standardError)")

        // Too short a boot timeout: fails after it, with the console's tail.
        try Self.definition().write(to: file, atomically: true, encoding: .utf8)
        let slow = try imagec.run("test", "--firmware", "bios", "--boot-timeout", "5", "systems/tested1.swift")
        #expect(slow.status == 4)
        #expect(slow.standardError.contains("did not answer over SSH within the boot timeout of 5 s"))
        #expect(machines(in: folder).isEmpty)

        // Ctrl-C while booting: no QEMU left, no overlay.
        let (process, _, errors) = try imagec.start(["test", "--firmware", "bios", "systems/tested1.swift"])
        let started = Date()
        while Date().timeIntervalSince(started) < 300, (try? String(contentsOf: errors, encoding: .utf8))?.contains("booting") != true {
            usleep(200_000)
        }
        sleep(3)
        #expect(!machines(in: folder).isEmpty)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 128 + SIGINT)
        #expect(machines(in: folder).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root.path).filter { $0.hasPrefix(".tmp-") } == [])
    }
}
