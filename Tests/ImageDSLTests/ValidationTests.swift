import ImageDSL
import Testing

/// Semantic checks: every problem is collected, each at its declaration's line.
struct ValidationTests {
    @Test func allProblemsAreReportedAtOnceWithTheirLines() {
        let first = #line + 3
        let system = OperatingSystem {
            HostName("node1")
            Packages("Not_A_Package")
            User("alice", uid: 2001)
            User("bob", uid: 2001)
            File("etc/motd", contents: "")
            Network { Interface("eno1", address: "10.0.0.300/24") }
            Disk(rootSize: .gibibytes(1)) { PersistentVolume("data", mountPoint: "/", size: .gibibytes(1)) }
        }
        let (_, diagnostics) = system.resolve()
        let found = diagnostics.map { "\($0.location!.line - first): \($0.message)" }.sorted()
        #expect(found == [
            "0: 'Not_A_Package' is not a valid Debian package name (lowercase letters, digits, '+', '-' and '.')",
            "2: uid 2001 of user 'bob' is already used by user 'alice' (declared at \(#filePath):\(first + 1))",
            "3: file path 'etc/motd' is not an absolute path to a file",
            "4: '10.0.0.300/24' on interface 'eno1' is not an address with a prefix length (such as 10.8.0.42/16)",
            "5: persistent volume 'data' cannot be mounted on '/': the root file system is replaced by every reinstall",
            "5: root size 1 GiB is smaller than the minimum of 2 GiB",
        ])
    }

    @Test func aSystemWithoutHostNameStillHasItsOtherProblemsReported() {
        let system = OperatingSystem { Packages("Bad") }
        let (model, diagnostics) = system.resolve()
        #expect(model == nil)
        #expect(diagnostics.map(\.message) == [
            "the system has no host name; add HostName(\"…\") to its block",
            "'Bad' is not a valid Debian package name (lowercase letters, digits, '+', '-' and '.')",
        ])
    }

    @Test func sudoRightsBecomeAPackageAndARule() throws {
        let system = OperatingSystem {
            HostName("h")
            User("alice", uid: 2001, sudo: .withoutPassword)
            User("bob", uid: 2002, sudo: .withPassword)
        }
        let model = try #require(system.resolve().model)
        #expect(model.packages == ["sudo"])
        #expect(model.files == [File(
            "/etc/sudoers.d/50-imagec", mode: 0o440,
            contents: "# Written by imagec from the system definition.\nalice ALL=(ALL:ALL) NOPASSWD: ALL\nbob ALL=(ALL:ALL) ALL\n")])
    }

    @Test(arguments: [
        ("10.8.0.42/16", true), ("0.0.0.0/0", true), ("2001:db8::2/64", true), ("::1/128", true),
        ("fe80::1:2:3:4:5:6/10", true), ("::ffff:10.0.0.1/96", true),
        ("10.8.0.42", false), ("10.8.0.256/16", false), ("10.8.0/16", false), ("10.8.0.42/33", false),
        ("01.2.3.4/8", false), ("2001:db8:::2/64", false), ("1:2:3:4:5:6:7:8:9/64", false), ("gggg::/64", false),
    ])
    func addresses(cidr: String, valid: Bool) {
        let system = OperatingSystem { HostName("h"); Network { Interface("eno1", address: cidr) } }
        #expect(system.resolve().diagnostics.isEmpty == valid)
    }

    @Test func sizesPrintInBinaryUnits() {
        #expect(ByteCount.gibibytes(20).description == "20 GiB")
        #expect(ByteCount.mebibytes(1536).description == "1536 MiB")
        #expect(ByteCount.tebibytes(2).description == "2 TiB")
        #expect(ByteCount(bytes: 1000).description == "1000 B")
    }
}
