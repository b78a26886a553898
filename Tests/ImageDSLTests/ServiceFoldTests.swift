import ImageDSL
import Testing

/// The service graph: services extend other services, and the system is their fold.
struct ServiceFoldTests {
    func fold(@SystemBuilder _ content: () -> [SystemBuilder.Declaration]) -> (SystemModel?, [String]) {
        let system = OperatingSystem(inheriting: OperatingSystem { HostName("host") }, content)
        let (model, diagnostics) = system.resolve()
        return (model, diagnostics.map(\.message))
    }

    @Test func openSSHContributesPackageFileUnitAndFirewallPort() throws {
        let (model, problems) = fold { OpenSSH(port: 2222); Firewall() }
        #expect(problems == [])
        let system = try #require(model)
        #expect(system.packages == ["netbase", "nftables", "openssh-server"])
        #expect(system.units.map(\.name) == ["nftables.service", "ssh.service"])
        let rules = try #require(system.files.first { $0.path == "/etc/nftables.conf" }).contents
        #expect(rules.contains("    tcp dport 2222 accept\n"))
        let firewall = try #require(system.services.first { $0.type == "firewall" })
        #expect(firewall.configuration == .object([
            "allow": .array([.object(["transport": .string("tcp"), "port": .integer(2222)])]),
            "allowPing": .bool(true),
        ]))
    }

    @Test func extensionToAnAbsentOptionalTargetIsDropped() throws {
        let (model, problems) = fold { OpenSSH() }
        #expect(problems == [])
        #expect(model?.services.map(\.type) == ["openssh"])
    }

    @Test func targetWithADefaultIsInstantiated() throws {
        let (model, problems) = fold { Munge(); SlurmClient(controller: "ctl") }
        #expect(problems == [])
        #expect(model?.services.map(\.type) == ["munge", "slurm-client", "sysctl"])
        #expect(model?.files.first { $0.path == "/etc/sysctl.d/90-imagec.conf" }?.contents.contains("vm.overcommit_memory = 0") == true)
    }

    @Test func declaredSysctlWinsOverContributions() throws {
        let (model, _) = fold { Munge(); SlurmClient(controller: "ctl"); Sysctl(["vm.overcommit_memory": "2"]) }
        let contents = try #require(model?.files.first { $0.path == "/etc/sysctl.d/90-imagec.conf" }?.contents)
        #expect(contents.contains("vm.overcommit_memory = 2"))
    }

    @Test func missingRequiredServiceIsAnError() {
        let (_, problems) = fold { SlurmClient(controller: "ctl") }
        #expect(problems == ["service 'slurm-client' needs service 'munge', which the system does not declare"])
    }

    @Test func conflictingServicesAreAnErrorInEitherOrder() {
        let (_, problems) = fold { Chrony(servers: ["a"]); Timesyncd(servers: ["a"]) }
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("service 'timesyncd' conflicts with service 'chrony'") == true)
        let (_, reversed) = fold { Timesyncd(servers: ["a"]); Chrony(servers: ["a"]) }
        #expect(reversed.count == 1)
        #expect(reversed.first?.hasPrefix("service 'chrony' conflicts with service 'timesyncd'") == true)
    }

    // Only one of the two types names the other.
    struct Lonely: Service {
        static let name = "lonely"
        static var conflicts: [any Service.Type] { [OpenSSH.self] }
        var extensions: [ServiceExtension] { [] }
    }

    @Test func aConflictNamedByOneSideIsFoundInBothOrders() {
        #expect(fold { Lonely(); OpenSSH() }.1.count == 1)
        #expect(fold { OpenSSH(); Lonely() }.1.count == 1)
    }

    @Test func serviceOrderDoesNotChangeTheModel() throws {
        let (a, _) = fold { SerialConsole(); Munge(); SlurmClient(controller: "c"); Sysctl(["x.y": "1"]) }
        let (b, _) = fold { Sysctl(["x.y": "1"]); SlurmClient(controller: "c"); Munge(); SerialConsole() }
        #expect(try #require(a).canonical == #require(b).canonical)
    }

    @Test func singleInstanceServiceDeclaredTwiceIsAnError() {
        let (_, problems) = fold { OpenSSH(); OpenSSH(port: 2222) }
        #expect(problems.count == 1)
        #expect(problems.first?.contains("service 'openssh' is declared twice") == true)
        #expect(problems.first?.contains("ModifyService(OpenSSH.self)") == true)
    }

    @Test func multipleInstanceServices() throws {
        let (model, problems) = fold {
            NFSMount("nfs:/export/home", at: "/home")
            NFSMount("nfs:/export/scratch", at: "/scratch", automount: false)
        }
        #expect(problems == [])
        #expect(model?.mounts.map(\.mountPoint) == ["/home", "/scratch"])
        #expect(model?.packages == ["nfs-common"])
        // Homes mount on first access, so a machine boots without its server; /scratch at boot.
        #expect(model?.mounts.map(\.options) == [
            ["defaults", "_netdev", "x-systemd.automount", "x-systemd.mount-timeout=30s"], ["defaults", "_netdev"],
        ])
    }

    @Test func declaredFileWinsOverServiceFile() throws {
        let (model, problems) = fold { OpenSSH(); File("/etc/ssh/sshd_config.d/50-imagec.conf", contents: "Port 1\n") }
        #expect(problems == [])
        #expect(model?.files.first?.contents == "Port 1\n")
    }

    // A lab's own service types, in the Guix style.
    struct Motd: Service {
        static let name = "motd"
        var lines: [String]
        typealias Extension = String
        func extended(with contributions: [String]) -> Motd { Motd(lines: lines + contributions) }
        var extensions: [ServiceExtension] {
            ServiceExtension.file(File("/etc/motd", contents: lines.joined(separator: "\n") + "\n"))
        }
    }

    struct Booking: Service {
        static let name = "booking"
        var user: String
        var extensions: [ServiceExtension] {
            ServiceExtension.extend(Motd.self, with: "Booked by \(user)")
            ServiceExtension.user(User(user, uid: 3000))
        }
    }

    struct SecondMotd: Service {
        static let name = "second-motd"
        var extensions: [ServiceExtension] { ServiceExtension.file(File("/etc/motd", contents: "other\n")) }
    }

    @Test func userDefinedServicesExtendEachOther() throws {
        let (model, problems) = fold { Booking(user: "alice"); Motd(lines: ["Welcome"]) }
        #expect(problems == [])
        #expect(model?.files.first { $0.path == "/etc/motd" }?.contents == "Welcome\nBooked by alice\n")
        #expect(model?.users.map(\.name) == ["alice"])
        #expect(model?.services.first { $0.type == "motd" }?.configuration == .object(["lines": .array([.string("Welcome"), .string("Booked by alice")])]))
    }

    @Test func twoServicesWritingOneFileDifferentlyIsAnError() {
        let (_, problems) = fold { Motd(lines: ["a"]); SecondMotd() }
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("file '/etc/motd' is set differently by service 'second-motd'") == true)
    }

    struct Ping: Service {
        static let name = "ping"
        typealias Extension = Int
        var extensions: [ServiceExtension] { ServiceExtension.extend(Pong.self, with: 1) }
    }

    struct Pong: Service {
        static let name = "pong"
        typealias Extension = Int
        var extensions: [ServiceExtension] { ServiceExtension.extend(Ping.self, with: 1) }
    }

    @Test func cyclesAreReported() {
        let (_, problems) = fold { Ping(); Pong() }
        #expect(problems == ["services extend each other in a cycle (these services are in it or wait on it: ping, pong)"])
    }
}
