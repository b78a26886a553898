import BMC
import Foundation
import ImageDSL
import Testing

/// The BMC drivers against real BMC emulators on 127.0.0.1 driving a libvirt domain: sushy-tools
/// for Redfish, virtualbmc for IPMI (both from scripts/setup's /opt/imagec-bmc). The domain has
/// no disk and a user-mode NIC: powered on, it finds nothing to boot and waits, costing almost no CPU.
@Suite(.serialized)
struct BMCTests {
    static let emulators = URL(fileURLWithPath: ProcessInfo.processInfo.environment["IMAGEC_BMC_EMULATORS"] ?? "/opt/imagec-bmc/bin")

    /// A diskless domain and the folder of its emulator.
    struct Machine {
        let name: String
        let uuid: String
        let folder: URL

        init() throws {
            try DeployTests.ensureLibvirtd()
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-bmc-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            name = "imagec-bmc-\(folder.lastPathComponent.suffix(8))"
            let disk = folder.appendingPathComponent("disk.raw")
            FileManager.default.createFile(atPath: disk.path, contents: Data(count: 1 << 20))
            try DeployTests.define("""
                <domain type='qemu'>
                  <name>\(name)</name>
                  <memory unit='MiB'>64</memory>
                  <vcpu>1</vcpu>
                  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
                  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator><interface type='user'><model type='virtio'/></interface>
                  <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='\(disk.path)'/><target dev='vda' bus='virtio'/></disk></devices>
                </domain>
                """, in: folder)
            uuid = try PoolTests.output("/usr/bin/virsh", ["-c", "qemu:///system", "domuuid", name]).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        var state: String { (try? PoolTests.output("/usr/bin/virsh", ["-c", "qemu:///system", "domstate", name]))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "" }

        /// The boot devices of the domain's definition, in order: `<os><boot dev=…/>` (virtualbmc),
        /// or each device's `<boot order=…/>` (sushy-tools).
        var bootOrder: [String] {
            let xml = (try? PoolTests.output("/usr/bin/virsh", ["-c", "qemu:///system", "dumpxml", "--inactive", name])) ?? ""
            let global = xml.matches(of: /<boot dev='([a-z]+)'\/>/).map { String($0.1) }
            if !global.isEmpty { return global }
            return xml.matches(of: /<(interface|disk) [^>]*>(?:(?!<\/\1>).)*?<boot order='(\d+)'\/>/.dotMatchesNewlines())
                .sorted { Int($0.2)! < Int($1.2)! }.map { $0.1 == "interface" ? "network" : "hd" }
        }

        /// A credentials file of `mode` holding `USER:PASSWORD`.
        func credentials(_ text: String, mode: Int = 0o600) throws -> String {
            let file = folder.appendingPathComponent("credentials-\(UUID().uuidString.prefix(6))")
            try text.write(to: file, atomically: false, encoding: .utf8)
            chmod(file.path, mode_t(mode))
            return file.path
        }

        func remove() {
            DeployTests.undefine(name)
            try? FileManager.default.removeItem(at: folder)
        }
    }

    /// A daemon of the test, stopped at the end.
    final class Daemon {
        let process = Process()

        init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], log: URL) throws {
            process.executableURL = executable
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            try process.start()
        }

        func stop() {
            process.terminate()
            process.waitUntilExit()
        }
    }

    static func freePort() -> Int { Int.random(in: 20000...40000) }

    /// Waits until `ready` holds, for up to 30 s.
    static func wait(_ what: String, _ ready: () -> Bool) throws {
        for _ in 0..<150 {
            if ready() { return }
            usleep(200_000)
        }
        Issue.record("\(what) did not become ready")
        throw CancellationError()
    }

    @Test func redfishThroughSushyTools() throws {
        let machine = try Machine()
        defer { machine.remove() }
        // sushy-tools' basic authentication takes bcrypt hashes.
        let hash = try PoolTests.output(Self.emulators.appendingPathComponent("python").path,
                                        ["-c", "import bcrypt; print(bcrypt.hashpw(b'secret', bcrypt.gensalt(rounds=4)).decode())"])
        try "admin:\(hash)".write(to: machine.folder.appendingPathComponent("htpasswd"), atomically: true, encoding: .utf8)
        try """
            SUSHY_EMULATOR_AUTH_FILE = '\(machine.folder.path)/htpasswd'
            SUSHY_EMULATOR_LIBVIRT_URI = 'qemu:///system'
            SUSHY_EMULATOR_ALLOWED_INSTANCES = ['\(machine.uuid)']

            """.write(to: machine.folder.appendingPathComponent("sushy.conf"), atomically: true, encoding: .utf8)
        let port = Self.freePort()
        let sushy = try Daemon(Self.emulators.appendingPathComponent("sushy-emulator"),
                               ["--config", machine.folder.appendingPathComponent("sushy.conf").path, "-i", "127.0.0.1", "-p", String(port)],
                               log: machine.folder.appendingPathComponent("sushy.log"))
        defer { sushy.stop() }
        let bmc = BaseboardManagement.redfish("http://127.0.0.1:\(port)", system: machine.uuid,
                                              credentialsFile: try machine.credentials("admin:secret\n"))
        let controller = try BaseboardControllers.controller(for: bmc)
        try Self.wait("sushy-emulator") { (try? controller.powerState()) != nil }

        #expect(try controller.powerState() == .off)
        try controller.setBootDevice(.network, once: true)
        #expect(machine.bootOrder.first == "network")
        try controller.power(.on)
        #expect(try controller.powerState() == .on)
        #expect(machine.state == "running")
        try controller.power(.on)  // already on: nothing
        // Back to the disk, from now on, then off at once.
        try controller.setBootDevice(.disk, once: false)
        #expect(machine.bootOrder.first == "hd")
        try controller.power(.forceOff)
        #expect(try controller.powerState() == .off)
        #expect(machine.state == "shut off")

        // What an admin gets wrong, each said before anything is touched.
        let wrong = try BaseboardControllers.controller(for: .redfish("http://127.0.0.1:\(port)", system: machine.uuid,
                                                                      credentialsFile: try machine.credentials("admin:wrong\n")))
        #expect { try wrong.power(.on) } throws: { "\($0)".contains("refused user 'admin' (HTTP 401)") }
        let unknown = try BaseboardControllers.controller(for: .redfish("http://127.0.0.1:\(port)", system: "System.Embedded.1",
                                                                        credentialsFile: try machine.credentials("admin:secret\n")))
        // A real BMC answers 404 ("check the system id"); sushy-tools 2.2.0 fails with a 500 of its own.
        #expect { try unknown.powerState() } throws: { "\($0)".contains("/redfish/v1/Systems/System.Embedded.1") }
        let readable = try machine.credentials("admin:secret\n", mode: 0o644)
        #expect { try BaseboardControllers.controller(for: .redfish("http://127.0.0.1:\(port)", system: machine.uuid, credentialsFile: readable)) }
            throws: { "\($0)".contains("can be read by others (mode 644): chmod 600") }
        let nobody = try BaseboardControllers.controller(for: .redfish("http://127.0.0.1:\(Self.freePort())", system: machine.uuid,
                                                                       credentialsFile: try machine.credentials("admin:secret\n")))
        #expect { try nobody.powerState() } throws: { "\($0)".contains("the BMC does not answer") }
        #expect(machine.state == "shut off")
    }

    @Test func ipmiThroughVirtualBMC() throws {
        let machine = try Machine()
        defer { machine.remove() }
        let control = Self.freePort(), port = Self.freePort()
        let configuration = machine.folder.appendingPathComponent("virtualbmc.conf")
        try """
            [default]
            config_dir = \(machine.folder.path)/vbmc
            pid_file = \(machine.folder.path)/vbmcd.pid
            server_port = \(control)

            """.write(to: configuration, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: machine.folder.appendingPathComponent("vbmc"), withIntermediateDirectories: true)
        let environment = ["VIRTUALBMC_CONFIG": configuration.path]
        let vbmcd = try Daemon(Self.emulators.appendingPathComponent("vbmcd"), ["--foreground"], environment: environment,
                               log: machine.folder.appendingPathComponent("vbmcd.log"))
        defer { vbmcd.stop() }
        func vbmc(_ arguments: [String]) throws -> Int32 {
            let process = Process()
            process.executableURL = Self.emulators.appendingPathComponent("vbmc")
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.start()
            process.waitUntilExit()
            return process.terminationStatus
        }
        try Self.wait("vbmcd") {
            (try? vbmc(["add", machine.name, "--port", String(port), "--address", "127.0.0.1", "--username", "admin",
                        "--password", "secret", "--libvirt-uri", "qemu:///system"])) == 0
        }
        #expect(try vbmc(["start", machine.name]) == 0)
        let controller = try BaseboardControllers.controller(for: .ipmi("127.0.0.1", port: port, credentialsFile: try machine.credentials("admin:secret\n")))
        try Self.wait("the emulated BMC") { (try? controller.powerState()) != nil }

        #expect(try controller.powerState() == .off)
        try controller.setBootDevice(.network, once: true)
        try controller.power(.on)
        #expect(try controller.powerState() == .on)
        #expect(machine.state == "running")
        #expect(machine.bootOrder.first == "network")
        try controller.setBootDevice(.disk, once: false)
        try controller.power(.forceOff)
        #expect(try controller.powerState() == .off)
        #expect(machine.bootOrder.first == "hd")

        let wrong = try BaseboardControllers.controller(for: .ipmi("127.0.0.1", port: port, credentialsFile: try machine.credentials("admin:wrong\n")))
        #expect { try wrong.power(.on) } throws: { "\($0)".contains("opened no session for user 'admin'") }
        #expect(machine.state == "shut off")
    }

    @Test func definitionsNameTheirBMCsWell() {
        #expect(BaseboardManagement.redfish("idrac.lab.example", system: "1").validate() == ["the Redfish URL 'idrac.lab.example' is not an http(s):// URL"])
        #expect(BaseboardManagement.redfish("https://idrac.lab.example", system: "Systems/1").validate().count == 1)
        #expect(BaseboardManagement.ipmi("bmc.lab.example", port: 0, credentialsFile: "bmc.credentials").validate().count == 2)
        #expect(BaseboardManagement.ipmi("bmc.lab.example").validate().isEmpty)
    }
}
