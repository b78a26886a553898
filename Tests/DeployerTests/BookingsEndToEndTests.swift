import Bookings
@testable import BootTest
@testable import DefinitionEvaluation
import Foundation
import ImageDSL
import Testing

/// `imagec bookings run` end to end, on real machines: the emulated bare-metal bigmem of the
/// bare-metal tests (a libvirt domain under TCG, its BMC sushy-tools, an empty disk and a
/// `/home` disk) and a libvirt VM whose root and `/home` disks are in a local pool; bookings
/// PUT into Radicale as GRR's hook does, mails read from aiosmtpd's mail box.
///
/// Night 1: alice books both machines: bm001 is installed through its BMC and the network
/// (its disk is empty), vm001 gets its first root disk; alice is mailed, with each host's key
/// fingerprint. Night 2: alice goes on: nothing is reinstalled. Night 3: bob, with
/// "MBBWorkflow: Oui": the run is killed (SIGKILL) with both machines in their checks and run
/// again, which finishes both swaps; bm001 is reinstalled in place, alice's /home wiped as
/// declared; vm001's /home is snapshotted in its pool, then wiped; bob is mailed once, the
/// admins get the summary. Night 3 once more: nothing happens, no mail.
struct BookingsEndToEndTests {
    @Test func nightsOfTwoUsersOnABigmemAndAVM() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-bookings-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("systems"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: DeployTests.repository.appendingPathComponent("templates"), to: folder.appendingPathComponent("templates"))
        try FileManager.default.copyItem(at: DeployTests.repository.appendingPathComponent("systems/installer.swift"),
                                         to: folder.appendingPathComponent("systems/installer.swift"))
        let servers = try BookingServers(folder: folder.appendingPathComponent("servers"))
        defer { servers.stop() }

        // The bare-metal bigmem: empty root disk, /home on its own disk, a Redfish BMC.
        let machine = try BareMetalDeployTests.Machine(folder: folder)
        defer { machine.stop() }
        try machine.makeHome(files: [:])
        try machine.startBMC()
        let bmcCredentials = try machine.credentials("admin:secret\n")

        // The VM: its root disk absent until the first swap; /home a disk in the pool, formatted
        // with its label when the admins made it.
        let pool = folder.appendingPathComponent("pool")
        try FileManager.default.createDirectory(at: pool, withIntermediateDirectories: true)
        chmod(folder.path, 0o755)  // QEMU runs as libvirt-qemu and opens the disks in it
        try BareMetalDeployTests.Machine.shell("truncate -s 1G vm-home.raw && mkfs.xfs -q -L home vm-home.raw", in: folder)
        try PoolTests.run("/usr/bin/qemu-img", ["convert", "-O", "qcow2", folder.appendingPathComponent("vm-home.raw").path,
                                                pool.appendingPathComponent("vm001-home.qcow2").path])
        let vmDomain = "imagec-bk-\(folder.lastPathComponent.suffix(8))", vmPort = Int.random(in: 30000..<40000)

        // The lab's people and booking form (templates/Bookings.swift), a light variant for MBBWorkflow.
        try """
            import ImageDSL

            extension Lab {
                static let e2ePeople = Directory {
                    Account("alice", uid: 2001, mail: "alice@lab.example", fullName: "Alice Martin")
                    Account("bob", uid: 2002, mail: "bob@lab.example", fullName: "Bob Durand")
                }

                static func e2eBookable(_ system: OperatingSystem, data: DataPolicy) -> Bookable {
                    Bookable(system, directory: e2ePeople, parse: grrBooking, options: bookingOptions, previousUsersData: data, remindDaysBefore: 1) { booking in
                        booking.user(sudo: .withoutPassword)
                        if booking.option("MBBWorkflow") == "Oui" { Packages("tree") }
                    }
                }
            }

            """.write(to: folder.appendingPathComponent("templates/E2EBookings.swift"), atomically: true, encoding: .utf8)
        // Both with the same packages: one package layer for the two (and one for the variant).
        try """
            import ImageDSL

            let system = OperatingSystem(inheriting: Lab.oneDiskVM(address: "10.50.103.203", on: .testnet)) {
                HostName("bm001")
                Firmware.bios
                Disk(rootSize: .gibibytes(2), minimumRootSize: .gibibytes(2), rootSlots: .ab) {
                    PersistentVolume("home", mountPoint: "/home", size: .gibibytes(1), fileSystem: .xfs)
                }
                Packages("xfsprogs")
                // A kernel started by kexec under TCG, on a host as busy as the suite's, can hang in the
                // early check of its timer interrupt ("MP-BIOS bug: 8254 timer not connected to IO-APIC",
                // then nothing) until the watchdog resets the machine: the emulated machine skips the check.
                KernelArguments("no_timer_check")
                Deployment(bareMetal: BareMetal(
                    bmc: .redfish("http://127.0.0.1:\(machine.bmcPort)", system: "\(machine.uuid)", credentialsFile: "\(bmcCredentials)"),
                    bootMAC: "\(machine.mac)", rootDisk: .serial("IMAGEC-BM-ROOT")), ssh: "127.0.0.1:\(machine.sshPort)")
            }

            let bookable = Lab.e2eBookable(system, data: .wiped)

            """.write(to: folder.appendingPathComponent("systems/bm001.swift"), atomically: true, encoding: .utf8)
        try """
            import ImageDSL

            let system = OperatingSystem(inheriting: Lab.oneDiskVM(address: "10.50.103.204", on: .testnet)) {
                HostName("vm001")
                Firmware.bios
                Disk { PersistentVolume("home", mountPoint: "/home", size: .gibibytes(1), fileSystem: .xfs) }
                Packages("xfsprogs", "python3", "kexec-tools", "fdisk")
                Deployment(to: .local("\(pool.path)"), disk: "vm001-root", machine: .libvirt("\(vmDomain)"), ssh: "127.0.0.1:\(vmPort)",
                           volumes: ["home": "vm001-home"])
            }

            let bookable = Lab.e2eBookable(system, data: .snapshotted)

            """.write(to: folder.appendingPathComponent("systems/vm001.swift"), atomically: true, encoding: .utf8)
        try """
            # The calendar GRR writes validated bookings to.
            calendar = \(servers.calendarURL)
            calendar-credentials = \(servers.credentials.path)
            time-zone = Europe/Paris
            definitions = systems
            smtp = \(servers.smtpURL)
            from = imagec <imagec@lab.example>
            admins = admins@lab.example
            state = bookings.sqlite

            """.write(to: folder.appendingPathComponent("bookings.conf"), atomically: true, encoding: .utf8)
        let environment = ["IMAGEC_BOOT_STATE": machine.state.directory.path]
        func imagec(_ arguments: [String], boots: Bool = false) throws -> DeployTests.Run {
            try DeployTests.imagec(arguments, in: folder, environment: environment, boots: boots)
        }
        // Locked afresh (each bookable's variants too): the committed locks' versions leave the archive within weeks.
        for system in ["bm001", "vm001", "installer"] {
            let locked = try imagec(["lock", "systems/\(system).swift"])
            #expect(locked.status == 0, "\(locked.output)")
        }
        let bmModel = try #require(try Evaluator.standard().evaluate(folder.appendingPathComponent("systems/bm001.swift").path).systems.first?.model)
        try machine.startNetwork(for: bmModel)
        let vmModel = try #require(try Evaluator.standard().evaluate(folder.appendingPathComponent("systems/vm001.swift").path).systems.first?.model)
        // The card in a slot libvirt leaves free on the i440FX machine.
        let network = try #require(GuestNetwork.qemuArguments(for: vmModel, sshPort: vmPort))
            .map { $0.hasPrefix("virtio-net-pci,") ? $0 + ",bus=pci.0,addr=0x10" : $0 }
        try DeployTests.define("""
            <domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
              <name>\(vmDomain)</name>
              <memory unit='MiB'>1536</memory>
              <vcpu>2</vcpu>
              <os><type arch='x86_64' machine='pc'>hvm</type></os>
              <features><acpi/></features>
              <devices>
                <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
                  <source file='\(pool.path)/vm001-root.qcow2'/><target dev='vda' bus='virtio'/></disk>
                <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
                  <source file='\(pool.path)/vm001-home.qcow2'/><target dev='vdb' bus='virtio'/></disk>
                <serial type='file'><source path='\(folder.path)/vm-console.log' append='on'/></serial>
                <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
              </devices>
              <qemu:commandline>
            \(network.map { "    <qemu:arg value='\($0)'/>" }.joined(separator: "\n"))
              </qemu:commandline>
            </domain>
            """, in: folder)
        defer { DeployTests.undefine(vmDomain) }
        try BMCTests.wait("sushy-emulator") { (try? PoolTests.output("/usr/bin/curl", ["-sf", "-u", "admin:secret", "http://127.0.0.1:\(machine.bmcPort)/redfish/v1/Systems"])) != nil }

        // The bookings, as GRR's hook PUTs them.
        try servers.book(uid: "grr-1", summary: "alice - bm001", first: "2026-12-07")
        try servers.book(uid: "grr-2", summary: "alice - vm001", first: "2026-12-07")
        try servers.book(uid: "grr-3", summary: "alice - bm001", first: "2026-12-08")
        try servers.book(uid: "grr-4", summary: "alice - vm001", first: "2026-12-08")
        try servers.book(uid: "grr-5", summary: "bob - bm001", description: "Projet: phylogénie\nMBBWorkflow: Oui", first: "2026-12-09", days: 3)
        try servers.book(uid: "grr-6", summary: "bob - vm001", description: "MBBWorkflow: Oui", first: "2026-12-09", days: 3)
        func night(_ day: String) throws -> DeployTests.Run {
            try imagec(["bookings", "run", "--config", "bookings.conf", "--date", day, "--boot-timeout", "900"])
        }
        func hostKey(_ host: String) throws -> String {
            let line = try String(contentsOf: folder.appendingPathComponent("secrets/hosts/\(host)/ssh_host_ed25519_key.pub"), encoding: .utf8)
            return line.split(separator: " ").prefix(2).joined(separator: " ")
        }
        func ssh(_ host: String, _ command: String) throws -> String {
            try DeployTests.ssh(command, port: host == "bm001" ? machine.sshPort : vmPort, folder: folder, hostKey: try hostKey(host))
        }

        // Night 1: alice. bm001 through its BMC and the network, vm001's first disk.
        let first = try night("2026-12-07")
        #expect(first.status == 0 && first.output.contains("bm001    reinstalled  alice") && first.output.contains("vm001    reinstalled  alice"), "\(first.output)")
        var mails = servers.mails()
        #expect(Set(mails.map { "\($0.headers["To"]!): \($0.headers["Subject"]!)" }) == [
            "alice@lab.example: bm001 is ready for your booking (2026-12-07 to 2026-12-07)",
            "alice@lab.example: vm001 is ready for your booking (2026-12-07 to 2026-12-07)",
            "admins@lab.example: imagec bookings, night of 2026-12-07: 2 reinstalled",
        ])
        for host in ["bm001", "vm001"] {
            // The mail's fingerprint is the key the host presents (ssh checks it against the stable one).
            let fingerprint = try PoolTests.output("/usr/bin/ssh-keygen", ["-l", "-f", folder.appendingPathComponent("secrets/hosts/\(host)/ssh_host_ed25519_key.pub").path])
            let hash = try #require(fingerprint.firstMatch(of: /SHA256:\S+/)?.0)
            let mail = try #require(mails.first { $0.headers["Subject"]!.hasPrefix("\(host) is ready") })
            let key = try hostKey(host)
            #expect(mail.body.contains(String(hash)) && mail.body.contains(key), "\(mail.body)")
            #expect(try ssh(host, "hostname; id -un alice; sed -n 2p /etc/imagec/booking") == "\(host)\nalice\nuser=alice\n")
            // alice's work, on her /home.
            #expect(try ssh(host, "echo 'alice-result-\(host)' > /home/alice/result.txt && chown alice: /home/alice/result.txt && sync && echo written") == "written\n")
        }

        // Night 2: alice goes on. Nothing reinstalled; her data stays; she is reminded it ends.
        let second = try night("2026-12-08")
        #expect(second.status == 0 && second.output.contains("continues alice's booking"), "\(second.output)")
        for host in ["bm001", "vm001"] { #expect(try ssh(host, "cat /home/alice/result.txt") == "alice-result-\(host)\n") }
        mails = servers.mails()
        #expect(Set(mails.dropFirst(3).map { "\($0.headers["To"]!): \($0.headers["Subject"]!)" }) == [
            "alice@lab.example: Your booking of bm001 ends on 2026-12-08: copy your data",
            "alice@lab.example: Your booking of vm001 ends on 2026-12-08: copy your data",
            "admins@lab.example: imagec bookings, night of 2026-12-08: 0 reinstalled, 2 reminded",
        ])
        let afterSecond = mails.count

        // Night 3: bob with MBBWorkflow. Killed with both machines in their checks, run again.
        let (killed, killedLog) = try DeployTests.start(["bookings", "run", "--config", "bookings.conf", "--date", "2026-12-09", "--boot-timeout", "900"],
                                                        in: folder, environment: environment.merging(["IMAGEC_PAUSE_BEFORE": "check"]) { $1 })
        let deadline = Date().addingTimeInterval(2400)
        func paused() -> Int { ((try? String(contentsOf: killedLog, encoding: .utf8)) ?? "").components(separatedBy: "paused before check").count - 1 }
        while killed.isRunning, Date() < deadline, paused() < 2 { usleep(500_000) }
        #expect(killed.isRunning && paused() == 2, "\((try? String(contentsOf: killedLog, encoding: .utf8)) ?? "")")
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        #expect(servers.mails().count == afterSecond, "no mail before the checks")
        let third = try night("2026-12-09")
        #expect(third.status == 0 && third.output.contains("bm001    reinstalled  bob") && third.output.contains("vm001    reinstalled  bob"), "\(third.output)")
        for host in ["bm001", "vm001"] {
            // The variant; bob's account; alice's data gone as declared (the lab's admins have homes too).
            let seen = try ssh(host, "grep option /etc/imagec/booking; command -v tree; id -un bob; ls /home")
            #expect(seen == "option.MBBWorkflow=Oui\n/usr/bin/tree\nbob\nbob\nremy\nyann\n", "\(host): \(seen)")
        }
        #expect(try ssh("bm001", "lsblk -no PARTLABEL \"$(findmnt -no SOURCE /)\"") == "root-b\n")
        // vm001's /home kept as a snapshot in its pool before it was wiped: alice's result is in it.
        // (-U: the VM runs with it open.)
        let snapshots = try PoolTests.output("/usr/bin/qemu-img", ["snapshot", "-U", "-l", pool.appendingPathComponent("vm001-home.qcow2").path])
        // The latest: the one night 3's swap took (night 1's was taken before alice wrote).
        let snapshot = try #require(snapshots.matches(of: /imagec-swap-\d+/).map(\.0).max { Int($0.dropFirst(12))! < Int($1.dropFirst(12))! }, "\(snapshots)")
        try PoolTests.run("/usr/bin/qemu-img", ["convert", "-U", "-O", "raw", "-l", "snapshot.name=\(snapshot)",
                                                pool.appendingPathComponent("vm001-home.qcow2").path, folder.appendingPathComponent("snapshot.raw").path])
        let saved = try Data(contentsOf: folder.appendingPathComponent("snapshot.raw"))
        #expect(saved.range(of: Data("alice-result-vm001".utf8)) != nil)
        mails = servers.mails()
        #expect(Set(mails.dropFirst(afterSecond).map { "\($0.headers["To"]!): \($0.headers["Subject"]!)" }) == [
            "bob@lab.example: bm001 is ready for your booking (2026-12-09 to 2026-12-11)",
            "bob@lab.example: vm001 is ready for your booking (2026-12-09 to 2026-12-11)",
            "admins@lab.example: imagec bookings, night of 2026-12-09: 2 reinstalled",
        ])
        #expect(mails.last { $0.headers["To"] == "bob@lab.example" }?.body.contains("(MBBWorkflow: Oui)") == true)

        // Night 3 again: nothing happens, no mail.
        let again = try night("2026-12-09")
        #expect(again.status == 0 && servers.mails().count == mails.count, "\(again.output)")
        let history = try imagec(["status", "--history"])
        #expect(history.output.components(separatedBy: " healthy ").count - 1 == 4, "one deploy a machine a night: \(history.output)")
    }
}
