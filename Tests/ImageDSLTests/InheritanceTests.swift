import ImageDSL
import Testing

/// Inheritance: a block adds to and overrides what the system it inherits declares.
struct InheritanceTests {
    static let base = OperatingSystem {
        Timezone("Europe/Paris")
        Packages("vim-tiny", "curl")
        User("alice", uid: 2001, shell: "/bin/bash")
        File("/etc/motd", contents: "base\n")
        Network {
            Interface("eno1", .dhcp)
            Route(to: "10.141.0.0/16", via: "10.50.255.253")
            NameServers("10.0.0.1")
        }
        OpenSSH()
        KernelArguments("quiet")
    }

    func resolved(_ system: OperatingSystem) throws -> SystemModel {
        let (model, diagnostics) = system.resolve()
        #expect(diagnostics == [])
        return try #require(model)
    }

    @Test func derivedSystemAddsAndOverrides() throws {
        let derived = OperatingSystem(inheriting: Self.base) {
            HostName("vm1")
            Packages("htop")
            User("alice", uid: 2001, shell: "/bin/zsh")
            User("bob", uid: 2002)
            File("/etc/motd", contents: "derived\n")
            Network {
                Interface("eno1", address: "10.50.0.5/16", gateway: "10.50.255.254")
                Route(to: "10.142.0.0/16", via: "10.50.255.253")
                NameServers("10.0.0.2", "10.0.0.3")
            }
        }
        let model = try resolved(derived)
        #expect(model.timezone == "Europe/Paris")
        #expect(model.packages == ["curl", "htop", "openssh-server", "vim-tiny"])
        #expect(model.users.map(\.name) == ["alice", "bob"])
        #expect(model.users[0].shell == "/bin/zsh")
        #expect(model.files.first { $0.path == "/etc/motd" }?.contents == "derived\n")
        #expect(model.network.interfaces == [Interface("eno1", address: "10.50.0.5/16", gateway: "10.50.255.254")])
        #expect(model.network.routes.map(\.destination) == ["10.141.0.0/16", "10.142.0.0/16"])
        #expect(model.network.nameServers == ["10.0.0.2", "10.0.0.3"])
    }

    @Test func sourcesPointAtTheOverridingDeclaration() throws {
        let line = #line + 2
        let derived = OperatingSystem(inheriting: Self.base) {
            HostName("vm1"); File("/etc/motd", contents: "x\n")
        }
        let model = try resolved(derived)
        #expect(model.location(of: "file:/etc/motd")?.line == line)
        #expect(model.location(of: "system")?.line == line - 1)
        #expect(model.location(of: "file:/etc/motd")?.file == #filePath)
    }

    @Test func removingAndModifyingInheritedParts() throws {
        let derived = OperatingSystem(inheriting: Self.base) {
            HostName("vm1")
            RemovePackages("curl")
            RemoveKernelArguments("quiet")
            RemoveUser("alice")
            RemoveFile("/etc/motd")
            ModifyService(OpenSSH.self) { $0.port = 2222 }
        }
        let model = try resolved(derived)
        #expect(model.packages == ["openssh-server", "vim-tiny"])
        #expect(model.kernelArguments == [])
        #expect(model.users == [])
        #expect(!model.files.contains { $0.path == "/etc/motd" })
        #expect(model.files.first { $0.path == "/etc/ssh/sshd_config.d/50-imagec.conf" }?.contents.contains("Port 2222\n") == true)
        let removed = OperatingSystem(inheriting: Self.base) { HostName("vm2"); RemoveService(OpenSSH.self) }
        #expect(try resolved(removed).services == [])
    }

    @Test func replacingAnInheritedInterface() throws {
        let derived = OperatingSystem(inheriting: Self.base) {
            HostName("vm1")
            Network { RemoveInterface("eno1"); Interface("ens18", .dhcp) }
        }
        #expect(try resolved(derived).network.interfaces.map(\.name) == ["ens18"])
    }

    @Test func parameterisedTemplates() throws {
        func vm(address: String) -> OperatingSystem {
            OperatingSystem(inheriting: Self.base) {
                Network { Interface("eno1", address: "\(address)/16", gateway: "10.50.255.254") }
            }
        }
        let systems = (1...3).map { n in OperatingSystem(inheriting: vm(address: "10.50.0.\(n)")) { HostName("vm\(n.zeroPadded(to: 2))") } }
        let models = try systems.map(resolved)
        #expect(models.map(\.hostName) == ["vm01", "vm02", "vm03"])
        #expect(models.map { $0.network.interfaces[0].addresses } == [["10.50.0.1/16"], ["10.50.0.2/16"], ["10.50.0.3/16"]])
    }

    @Test func duplicatesInOneBlockAreErrorsButOverridesAcrossBlocksAreNot() {
        let line = #line + 3
        let system = OperatingSystem(inheriting: Self.base) {
            HostName("vm1")
            User("bob", uid: 2002)
            User("bob", uid: 2003)
        }
        let (_, diagnostics) = system.resolve()
        #expect(diagnostics.map(\.message) == ["user 'bob' is declared twice in the same block (first at \(#filePath):\(line))"])
        #expect(diagnostics.first?.location?.line == line + 1)
    }

    @Test func declarationOrderDoesNotChangeTheModel() throws {
        let a = OperatingSystem { HostName("x"); Packages("bb", "aa"); User("u1", uid: 2001); User("u2", uid: 2002); Chrony(servers: ["n"]); OpenSSH() }
        let b = OperatingSystem { OpenSSH(); Chrony(servers: ["n"]); User("u2", uid: 2002); User("u1", uid: 2001); Packages("aa", "bb"); HostName("x") }
        #expect(try resolved(a).canonical == resolved(b).canonical)
    }
}
