import ImageDSL
import Testing

/// Checks: every system's own, those services add, inherited ones, and removal by name.
struct CheckTests {
    static let template = OperatingSystem {
        OpenSSH(port: 2222)
        User("alice", uid: 2001)
        Check.unitActive("slurmd.service")
    }

    @Test func aSystemGetsItsOwnItsServicesAndItsTemplatesChecks() throws {
        let system = OperatingSystem(inheriting: Self.template) { HostName("node1") }
        let model = try #require(system.resolve().model)
        let checks = try #require(model.checks)
        #expect(checks.map(\.name) == ["boot", "host name", "port 2222/tcp listening", "unit slurmd.service active", "unit ssh.service active", "users"])
        #expect(checks.first { $0.name == "host name" }?.probe == .hostName("node1"))
        #expect(checks.first { $0.name == "users" }?.probe == .users([Check.UserExpectation(name: "alice", uid: 2001)]))
    }

    @Test func checksCanBeRemovedReplacedAndDoNotChangeTheCanonicalModel() throws {
        let plain = try #require(OperatingSystem(inheriting: Self.template) { HostName("node1") }.resolve().model)
        let system = OperatingSystem(inheriting: Self.template) {
            HostName("node1")
            RemoveCheck("port 2222/tcp listening")
            RemoveCheck("unit slurmd.service active")
            Check.command("sinfo --version", prints: "slurm", timeout: 30, name: "boot")
        }
        let (model, diagnostics) = system.resolve()
        #expect(diagnostics.isEmpty)
        let checks = try #require(model?.checks)
        #expect(checks.map(\.name) == ["boot", "host name", "unit ssh.service active", "users"])
        #expect(checks.first?.probe == .command("sinfo --version", prints: "slurm"))
        #expect(model?.canonical == plain.canonical)
    }

    @Test func declaredFileSystemsAreCheckedAsMounted() throws {
        let system = OperatingSystem {
            HostName("node1")
            Disk(rootSize: .gibibytes(4)) {
                Partition("scratch", mountPoint: "/scratch", size: .gibibytes(10), fileSystem: .ext4)
                PersistentVolume("data", mountPoint: "/data", size: .gibibytes(100), fileSystem: .xfs)
                PersistentVolume("home", mountPoint: "/home", size: .tebibytes(4), fileSystem: .xfs, device: "/dev/sdb")
            }
        }
        let checks = try #require(system.resolve().model?.checks)
        #expect(checks.filter { $0.name.hasPrefix("mounted") }.map(\.probe) == [
            .mounted("/data", atLeast: .gibibytes(90)), .mounted("/home", atLeast: ByteCount(bytes: (4 << 40) / 10 * 9)),
            .mounted("/scratch", atLeast: .gibibytes(9)),
        ])
    }
}
