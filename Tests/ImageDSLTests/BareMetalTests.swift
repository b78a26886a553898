import ImageDSL
import Foundation
import Testing

/// A bare-metal Deployment: its BMC, boot MAC and root disk, and the disk layout it needs.
struct BareMetalTests {
    static let redfish = BaseboardManagement.redfish("https://bmc.lab.example", system: "1", credentialsFile: "/etc/imagec/bmc")

    static func machine(mac: String = "52:54:00:AA:00:01", disk: DiskSelector = .serial("IMAGEC-ROOT-1")) -> BareMetal {
        BareMetal(bmc: redfish, bootMAC: mac, rootDisk: disk)
    }

    @Test func aBareMetalMachineNeedsTwoRootSlotsAndStableDeviceNames() {
        let line = #line + 4
        let system = OperatingSystem {
            HostName("bigmem9")
            Disk { PersistentVolume("home", mountPoint: "/home", size: .tebibytes(1), device: "/dev/sdb") }
            Deployment(bareMetal: Self.machine())
        }
        let (_, diagnostics) = system.resolve()
        #expect(diagnostics.map { "\($0.location!.line - line): \($0.message)" } == [
            "0: a bare-metal machine is reinstalled onto the root slot it is not running: declare its disk with two root slots (Disk(rootSlots: .ab))",
            "0: persistent volume 'home' is on '/dev/sdb', a name the kernel may give another disk at the next boot: "
                + "name it by /dev/disk/by-id/…, /dev/disk/by-path/…, LABEL=, UUID= or PARTLABEL=",
        ])
    }

    /// What a machine with root slots needs to be tried safely comes with it: the unit that gives
    /// up a trial not blessed in time, and the watchdog kept running through a kexec.
    @Test func rootSlotsBringTheirTrialUnitAndWatchdogArgument() throws {
        let system = OperatingSystem {
            HostName("bigmem9")
            KernelArguments("quiet")
            Disk(rootSlots: .ab)
            SystemdUnit("site.service", contents: "[Service]\nExecStart=/bin/true\n")
        }
        let model = try #require(system.resolve().model)
        #expect(model.kernelArguments == ["quiet", "watchdog.stop_on_reboot=0"])
        #expect(model.units.map(\.name).sorted() == ["imagec-trial.service", "site.service"])
        #expect(model.files.contains { $0.path == "/usr/local/libexec/imagec-trial" })
        // Declared by the system, its own unit wins.
        let own = OperatingSystem(inheriting: system) { SystemdUnit("imagec-trial.service", contents: "[Service]\nExecStart=/bin/false\n") }
        #expect(try #require(own.resolve().model).units.first { $0.name == "imagec-trial.service" }?.contents == "[Service]\nExecStart=/bin/false\n")
        // One slot: none of it.
        let single = try #require(OperatingSystem { HostName("vm1") }.resolve().model)
        #expect(!single.kernelArguments.contains("watchdog.stop_on_reboot=0") && !single.units.contains { $0.name == "imagec-trial.service" })
    }

    @Test func aWellDeclaredMachineIsAccepted() throws {
        let system = OperatingSystem {
            HostName("bigmem9")
            Disk(rootSlots: .ab) {
                PersistentVolume("home", mountPoint: "/home", size: .tebibytes(1), device: "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4-part1")
            }
            Deployment(bareMetal: Self.machine(mac: "52-54-00-AA-00-01"), ssh: "10.8.0.9")
        }
        let (model, diagnostics) = system.resolve()
        #expect(diagnostics.isEmpty)
        let deployment = try #require(model?.deployment)
        #expect(deployment.isBareMetal)
        guard case .bareMetal(let machine) = deployment.machine else { Issue.record("not bare metal"); return }
        #expect(machine.bootMAC == "52:54:00:aa:00:01")
    }

    @Test(arguments: [
        ("52:54:00:aa:00", "the boot MAC '52:54:00:aa:00' is not a MAC address such as b8:ca:3a:6e:12:40"),
        ("01:00:5e:00:00:01", "the boot MAC '01:00:5e:00:00:01' is a multicast address, which no NIC has"),
    ])
    func badMACsAreRefused(mac: String, message: String) {
        #expect(Self.machine(mac: mac).validate() == [message])
    }

    @Test func rootDisksAreNamedByWhatTheyAreNotByKernelNames() {
        #expect(DiskSelector.byPath("/dev/sda").validate()
            == ["the disk by-path '/dev/sda' is the link's name under /dev/disk/by-path/, not a device path"])
        #expect(DiskSelector.serial("two words").validate()
            == ["the disk serial two words is not a disk's serial number: one word of printable characters"])
        #expect(DiskSelector.wwn("0x5002538e40a1b2c3").validate().isEmpty)
        #expect(DiskSelector.byPath("pci-0000:3b:00.0-nvme-1").validate().isEmpty)
    }

    @Test func twoSystemsCannotBootFromOneMAC() {
        func system(_ name: String, system id: String) -> SystemModel {
            let bmc = BaseboardManagement.redfish("https://bmc.lab.example", system: id, credentialsFile: "/etc/imagec/bmc")
            return OperatingSystem {
                HostName(name)
                Disk(rootSlots: .ab)
                Deployment(bareMetal: BareMetal(bmc: bmc, bootMAC: "52:54:00:aa:00:01", rootDisk: .serial("X")))
            }.resolve().model!
        }
        let problems = FleetConsistency.problems([system("bigmem8", system: "8"), system("bigmem9", system: "9")]).map(\.message)
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("system 'bigmem9' boots from MAC 52:54:00:aa:00:01, as system 'bigmem8' does") == true)
    }

    /// Systems declared before root slots existed keep their canonical form, so their digests.
    @Test func oneRootSlotIsLeftOutOfTheCanonicalForm() throws {
        let one = try #require(OperatingSystem { HostName("node1") }.resolve().model)
        let two = try #require(OperatingSystem { HostName("node1"); Disk(rootSlots: .ab) }.resolve().model)
        let encoder = JSONEncoder()
        #expect(!String(decoding: try encoder.encode(one.disk), as: UTF8.self).contains("rootSlots"))
        #expect(String(decoding: try encoder.encode(two.disk), as: UTF8.self).contains("\"rootSlots\":\"ab\""))
        #expect(try JSONDecoder().decode(DiskLayout.self, from: encoder.encode(two.disk)) == two.disk)
        #expect(try JSONDecoder().decode(DiskLayout.self, from: encoder.encode(one.disk)).rootSlots == .one)
    }
}
