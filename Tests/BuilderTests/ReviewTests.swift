@testable import DefinitionReview
import Foundation
@testable import ImagecCore
import ImageDSL
@testable import Packages
import Testing

/// `imagec diff` and `imagec affected` over a scratch git repository whose history holds a
/// template change affecting several systems, a package version bump in a lock, a changed
/// file, a renamed system, an added service option and a syntax error; and the pieces they
/// stand on (Debian version order against dpkg, unified diffs against GNU diff).
@Suite(.serialized)
struct ReviewTests {
    // MARK: The pieces

    @Test func debianVersionsSortAsDpkgSortsThem() throws {
        let versions = ["1.0", "1.0-1", "1.0~rc1", "1.0+deb12u1", "1:0.9", "1.0-1~bpo1", "1.0-10", "1.0-9", "1.0a", "1.0.1",
                        "4.2.2-1", "4.2.2-1+deb12u1", "4.2.10-1", "0.9.99", "2:1", "1.0-1.1", "10", "9", "1.0~~", "1.0~"]
        for a in versions {
            for b in versions {
                let dpkg = Process()
                dpkg.executableURL = URL(fileURLWithPath: "/usr/bin/dpkg")
                dpkg.arguments = ["--compare-versions", a, "lt", b]
                try dpkg.start()
                dpkg.waitUntilExit()
                #expect((DebianVersion(a)! < DebianVersion(b)!) == (dpkg.terminationStatus == 0), "\(a) < \(b)")
            }
        }
        #expect(DebianVersion("") == nil && DebianVersion("x1") == nil && DebianVersion("a:1") == nil)
    }

    @Test func unifiedDiffsMatchGNUDiff() throws {
        let folder = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases = [
            ("a\nb\nc\n", "a\nB\nc\n"),
            ((1...20).map { "line \($0)\n" }.joined(), (1...20).map { $0 == 3 || $0 == 17 ? "changed \($0)\n" : "line \($0)\n" }.joined()),
            ("", "new\nfile\n"),
            ("gone\n", ""),
            ("one\ntwo\nthree\n", "zero\none\ntwo\nthree\nfour\n"),
        ]
        for (old, new) in cases {
            let a = folder.appendingPathComponent("a"), b = folder.appendingPathComponent("b")
            try old.write(to: a, atomically: true, encoding: .utf8)
            try new.write(to: b, atomically: true, encoding: .utf8)
            let gnu = try ImageBuilderTestSupport.output("/usr/bin/diff", ["-u", a.path, b.path])
            let hunks = gnu.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2).joined(separator: "\n")
            #expect(LineDiff.unified(old, new) == hunks, "\(old.debugDescription) → \(new.debugDescription)")
        }
        #expect(LineDiff.unified("same\n", "same\n") == "")
    }

    @Test func modelChangesAreMatchedByName() throws {
        func model(_ port: Int, _ users: [String], motd: String) -> SystemModel {
            let (model, problems) = OperatingSystem {
                HostName("m1")
                Deployment(to: .rbd("vm"), disk: "vm-\(port)-disk-0")
                OpenSSH(port: port)
                for name in users { User(name) }
                File("/etc/motd", contents: motd)
                NFSMount("nfs:/export/home", at: "/home")
                NFSMount("nfs:/export/scratch", at: "/scratch")
            }.resolve()
            #expect(problems.isEmpty)
            return model!
        }
        let changes = try ModelDiff.changes(from: model(22, ["alice", "bob"], motd: "a\nb\n"), to: model(2222, ["bob", "carol"], motd: "a\nc\n"))
        #expect(changes.contains(ModelChange(section: "services", item: "openssh.port", kind: .changed, old: "22", new: "2222", source: changes.first { $0.item == "openssh.port" }?.source)))
        #expect(changes.contains { $0.section == "users" && $0.item == "alice" && $0.kind == .removed })
        #expect(changes.contains { $0.section == "users" && $0.item == "carol" && $0.kind == .added })
        #expect(!changes.contains { $0.item.hasPrefix("bob") })
        let motd = try #require(changes.first { $0.section == "files" })
        #expect(motd.item == "/etc/motd contents" && motd.textDiff == "@@ -1,2 +1,2 @@\n a\n-b\n+c\n")
        #expect(!changes.contains { $0.section == "mounts" || $0.item.hasPrefix("nfs-mount") })
        // Where it is deployed is reviewed too, though it is not part of the image.
        #expect(changes.contains { $0.section == "deployment" && $0.item == "disk" && $0.old == "vm-22-disk-0" && $0.new == "vm-2222-disk-0" })
    }

    // MARK: A repository's history

    /// A scratch definitions repository and the `imagec` that reviews it.
    struct Repository {
        let folder: URL
        let imagec: BuildTests.Imagec

        init() throws {
            folder = try Support.temporaryDirectory()
            imagec = BuildTests.Imagec(folder: folder)
            try git("init", "-q", "-b", "main")
            try write(".gitignore", "store/\ncache/\nout-*.txt\nerr-*.txt\n")
        }

        func write(_ path: String, _ text: String) throws {
            let url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }

        @discardableResult
        func git(_ arguments: String...) throws -> String {
            try ImageBuilderTestSupport.output("/usr/bin/git", ["-C", folder.path, "-c", "user.name=Test", "-c", "user.email=test@lab.example"] + arguments)
        }

        func commit(_ message: String) throws {
            try git("add", "-A")
            try git("commit", "-q", "-m", message)
        }

        /// A lock for every system of `file` holding `packages` (name → version), as `imagec lock` writes it.
        func lock(_ file: String, packages: [String: String]) throws {
            let evaluation = try Support.evaluator().evaluate(folder.appendingPathComponent(file).path)
            let sets = evaluation.systems.map { system in
                """
                {"architecture": "amd64", "distribution": {"release": "bookworm", "vendor": "debian"}, "sources": "host", "sourceDateEpoch": 1700000000,
                 "systems": ["\(system.model.hostName)"], "requested": [\(system.model.requestedPackages.map { "\"\($0)\"" }.joined(separator: ", "))],
                 "packages": [\(packages.sorted { $0.key < $1.key }.map { name, version in
                    #"{"architecture": "amd64", "name": "\#(name)", "path": "pool/main/\#(name)_\#(version)_amd64.deb", "sha256": "\#(String(repeating: "0", count: 64))", "size": 1, "version": "\#(version)"}"#
                 }.joined(separator: ", "))]}
                """
            }
            try write(file.replacingOccurrences(of: ".swift", with: ".lock"), #"{"lockVersion": 1, "sets": ["# + sets.joined(separator: ", ") + "]}\n")
        }
    }

    static let site = """
        import ImageDSL

        enum Site {
            static func base(motd: String = "Welcome\\n", extraPackages: [String] = []) -> OperatingSystem {
                OperatingSystem {
                    Timezone("Europe/Paris")
                    OpenSSH()
                    Packages(["htop"] + extraPackages)
                    File("/etc/motd", contents: motd)
                    Disk(rootSize: .gibibytes(2), minimumRootSize: .gibibytes(1))
                }
            }
        }

        """

    static func system(_ host: String, _ body: String = "") -> String {
        "import ImageDSL\n\nlet system = OperatingSystem(inheriting: Site.base()) {\n    HostName(\"\(host)\")\n\(body)}\n"
    }

    @Test func reviewsAHistory() throws {
        let repository = try Repository()
        defer { try? FileManager.default.removeItem(at: repository.folder) }
        let imagec = repository.imagec

        // 1: four systems, three of them in two files inheriting the site template.
        try repository.write("templates/Site.swift", Self.site)
        try repository.write("systems/alpha.swift", Self.system("alpha"))
        try repository.write("systems/pair.swift", """
            import ImageDSL

            let systems = ["beta", "gamma"].map { name in
                OperatingSystem(inheriting: Site.base()) { HostName(name) }
            }

            """)
        try repository.write("systems/delta.swift", "import ImageDSL\n\nlet system = OperatingSystem {\n    HostName(\"delta\")\n    OpenSSH()\n}\n")
        try repository.lock("systems/alpha.swift", packages: ["openpmix": "4.2.2-1", "htop": "3.2.2-2"])
        try repository.commit("four systems")

        // 2: a template change: every system inheriting it, and only those, is affected.
        try repository.write("templates/Site.swift", Self.site.replacingOccurrences(of: #"["htop"] + extraPackages"#, with: #"["htop", "tmux"] + extraPackages"#))
        try repository.commit("tmux everywhere")
        let affected = try imagec.run("affected", "HEAD~1", "HEAD")
        #expect(affected.status == 0, "\(affected.standardError)")
        let lines = affected.standardOutput.split(separator: "\n")
        #expect(lines.map { String($0.prefix { $0 != " " }) } == ["alpha", "beta", "gamma"], "\(affected.standardOutput)")
        #expect(lines.allSatisfy { $0.contains("templates/Site.swift: packages") })
        #expect(affected.standardError.contains("3 of 4 systems affected"))
        let diff = try imagec.run("diff", "HEAD~1", "HEAD")
        #expect(diff.status == 0)
        #expect(diff.standardOutput.contains("beta, gamma  (systems/pair.swift)  changed"), "\(diff.standardOutput)")
        #expect(diff.standardOutput.contains("+ tmux  (templates/Site.swift:"))
        #expect(diff.standardOutput.contains("1 system unchanged"))
        #expect(!diff.standardOutput.contains("\u{1B}["), "no colors when the output is not a terminal")

        // 3: a package version bump in a lock: the old version is found at the old revision only.
        try repository.lock("systems/alpha.swift", packages: ["openpmix": "4.2.2-1+deb12u1", "htop": "3.2.2-2"])
        try repository.commit("openpmix security update")
        let bump = try imagec.run("diff", "HEAD~1", "HEAD")
        #expect(bump.standardOutput.contains("locked packages") && bump.standardOutput.contains("~ openpmix 4.2.2-1 → 4.2.2-1+deb12u1"), "\(bump.standardOutput)")
        let old = try imagec.run("affected", "--package", "openpmix", "--below", "4.2.2-1+deb12u1", "HEAD~1")
        #expect(old.standardOutput == "alpha  openpmix 4.2.2-1\n", "\(old.standardOutput)\(old.standardError)")
        let fixed = try imagec.run("affected", "--package", "openpmix", "--below", "4.2.2-1+deb12u1")
        #expect(fixed.status == 0 && fixed.standardOutput == "")
        #expect(try imagec.run("affected", "HEAD~1", "HEAD").standardOutput.contains("alpha  lock: 1 package (openpmix)"))

        // 4: a changed file, a renamed system, an added service option.
        try repository.write("systems/alpha.swift", Self.system("alpha", "    File(\"/etc/motd\", contents: \"Welcome\\nto alpha\\n\")\n    ModifyService(OpenSSH.self) { $0.port = 2222 }\n"))
        try repository.write("systems/delta.swift", "import ImageDSL\n\nlet system = OperatingSystem {\n    HostName(\"epsilon\")\n    OpenSSH()\n}\n")
        try repository.lock("systems/alpha.swift", packages: ["openpmix": "4.2.2-1+deb12u1", "htop": "3.2.2-2"])
        try repository.commit("alpha's motd and port; delta becomes epsilon")
        let changed = try imagec.run("diff", "HEAD~1", "HEAD")
        #expect(changed.standardOutput.contains("~ openssh.port: 22 → 2222  (systems/alpha.swift:6)"), "\(changed.standardOutput)")
        #expect(changed.standardOutput.contains("~ /etc/motd contents  (systems/alpha.swift:5)"))
        #expect(changed.standardOutput.contains("      @@ -1 +1,2 @@\n        Welcome\n      + to alpha\n"))
        #expect(changed.standardOutput.contains("epsilon  (systems/delta.swift)  renamed from delta"))
        // The review as a merge request comment and as JSON.
        let markdown = try imagec.run("diff", "--format", "markdown", "HEAD~1", "HEAD")
        #expect(markdown.standardOutput.contains("| alpha | `systems/alpha.swift` | changed |"))
        #expect(markdown.standardOutput.contains("<details><summary><b>alpha</b>: changed — systems/alpha.swift: files, services</summary>"))
        #expect(markdown.standardOutput.contains("```diff\n") && markdown.standardOutput.contains("\n+     to alpha\n"))
        let json = try imagec.run("diff", "--json", "HEAD~1", "HEAD")
        let review = try JSONDecoder().decode(Review.self, from: Data(json.standardOutput.utf8))
        #expect(review.systems.map(\.hostName) == ["alpha", "beta", "epsilon", "gamma"])
        #expect(review.systems.first { $0.hostName == "epsilon" }?.oldHostName == "delta")

        // git shows canonical models through the textconv driver, for old revisions too.
        try repository.write(".gitattributes", "systems/*.swift diff=imagec\n")
        try repository.git("config", "diff.imagec.textconv", "\(imagec.executable.path) show --canonical")
        let log = try repository.git("log", "-p", "-1", "--format=", "--", "systems/alpha.swift")
        let logLines = log.split(separator: "\n")
        #expect(logLines.contains { $0.hasPrefix("-") && $0.hasSuffix(#""port": 22,"#) }, "\(log)")
        #expect(logLines.contains { $0.hasPrefix("+") && $0.hasSuffix(#""port": 2222,"#) })

        // 5: a syntax error on one side: named with its side and line; the other systems still compared.
        try repository.write("systems/pair.swift", "import ImageDSL\n\nlet systems = [\n")
        try repository.write("systems/delta.swift", "import ImageDSL\n\nlet system = OperatingSystem {\n    HostName(\"epsilon\")\n    OpenSSH(port: 2200)\n}\n")
        try repository.commit("broken pair")
        let broken = try imagec.run("diff", "HEAD~1", "HEAD")
        #expect(broken.status == 1)
        #expect(broken.standardError.contains("error: HEAD: systems/pair.swift does not evaluate"), "\(broken.standardError)")
        #expect(broken.standardError.contains("HEAD: systems/pair.swift:"))
        #expect(broken.standardOutput.contains("~ openssh.port: 22 → 2200"))
        #expect(!broken.standardOutput.contains("beta") && !broken.standardOutput.contains("removed"))

        // A dirty work tree is diffed as it is, and said so.
        try repository.write("systems/delta.swift", "import ImageDSL\n\nlet system = OperatingSystem {\n    HostName(\"epsilon\")\n    OpenSSH(port: 2201)\n}\n")
        let dirty = try imagec.run("diff", "HEAD", "--", "systems/delta.swift")
        #expect(dirty.status == 0)
        #expect(dirty.standardOutput.hasPrefix("HEAD → work tree (uncommitted changes included)\n"))
        #expect(dirty.standardOutput.contains("~ openssh.port: 2200 → 2201") && !dirty.standardOutput.contains("alpha"))

        // Bad revisions and paths.
        let missing = try imagec.run("diff", "no-such-rev", "HEAD")
        #expect(missing.status == 2 && missing.standardError.contains("'no-such-rev' is not a commit of the repository"))
        let absent = try imagec.run("diff", "HEAD", "--", "systems/nosuch.swift")
        #expect(absent.status == 2 && absent.standardError.contains("systems/nosuch.swift exists in neither HEAD nor work tree"))
        let outside = try imagec.run("diff", "HEAD", "--", "/etc/passwd")
        #expect(outside.status == 2 && outside.standardError.contains("/etc/passwd is outside the definitions folder"))

        // Two files.
        let files = try imagec.run("diff", "systems/alpha.swift", "systems/delta.swift")
        #expect(files.standardOutput.contains("epsilon  (systems/alpha.swift → systems/delta.swift)  renamed from alpha"), "\(files.standardOutput)")
    }
}
