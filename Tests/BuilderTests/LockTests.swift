import Foundation
@testable import ImagecCore
import ImageDSL
@testable import Packages
import Testing

/// `imagec lock` against the build host's real apt sources.
@Suite(.serialized)
struct LockTests {
    static let definition = """
        import ImageDSL

        let system = OperatingSystem {
            HostName("locked1")
            Packages("htop")
            OpenSSH()
        }

        """

    func repository(_ text: String = definition) throws -> URL {
        let root = try Support.temporaryDirectory()
        try FileManager.default.createDirectory(at: root.appendingPathComponent("systems"), withIntermediateDirectories: true)
        let file = root.appendingPathComponent("systems/locked1.swift")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func lockPinsEveryPackageWithItsHash() throws {
        let file = try repository()
        let evaluation = try Support.evaluator().evaluate(file.path)
        let (lock, url, _) = try Locker().lock(evaluation)
        #expect(url.path == file.deletingPathExtension().path + ".lock")
        let set = try #require(lock.sets.first)
        #expect(set.systems == ["locked1"])
        #expect(set.requested.contains("htop") && set.requested.contains("openssh-server") && set.requested.contains("linux-image-amd64"))
        let names = Set(set.packages.map(\.name))
        for name in ["htop", "openssh-server", "linux-image-amd64", "systemd-sysv", "dpkg", "base-files", "libc6"] {
            #expect(names.contains(name), "\(name) is not in the lock")
        }
        for package in set.packages {
            #expect(package.sha256.wholeMatch(of: /[0-9a-f]{64}/) != nil)
            #expect(package.path.hasPrefix("pool/") && package.path.hasSuffix(".deb"))
            #expect(package.size > 0)
        }
        #expect(set.sourceDateEpoch > 1_600_000_000)
        // Each package's source, as security trackers name it: glibc makes libc6; a binNMU of bash
        // (5.2.15-2+b2, say) comes from the source's own version.
        #expect(set.packages.allSatisfy { $0.source?.isEmpty == false && $0.sourceVersion?.isEmpty == false })
        #expect(set.packages.first { $0.name == "libc6" }?.source == "glibc")
        let bash = try #require(set.packages.first { $0.name == "bash" })
        #expect(bash.source == "bash" && bash.sourceVersion == bash.version.replacing(/\+b\d+$/, with: ""))
        #expect(set.packages.first { $0.name == "htop" }.map { $0.source == "htop" && $0.sourceVersion == $0.version } == true)
        // No mirror is named in the lock: paths are relative to the sources.
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(!text.contains("://"))
        #expect(try PackageLock.read(from: url) == lock)
        #expect(try lock.set(for: evaluation.systems[0].model, lockFile: url) == set)
    }

    /// Layers follow the templates inside the set: each holds what its stage's request needs
    /// (dependencies met by the set's own packages, an alternative or a virtual package by what
    /// the set installs), the bottom one Essential too; the top one whatever else apt chose.
    /// Locked again with the template's layer unchanged, that layer keeps its date (its store entry).
    @Test func layersFollowTheTemplatesInsideTheSet() {
        func package(_ name: String) -> LockedPackage {
            LockedPackage(name: name, version: "1", architecture: "amd64", size: 1, sha256: "\(name)-sha", path: "pool/\(name).deb")
        }
        let relations = [
            "less-sha": PackageRelations(depends: ["libc6 (>= 2.34)"], provides: []),
            "tmux-sha": PackageRelations(depends: ["libevent (>= 2), libc6:any", "awk | mawk"], provides: []),
            "mawk-sha": PackageRelations(depends: [], provides: ["awk"]),
            "libevent-sha": PackageRelations(depends: ["libc6"], provides: []),
            "base-files-sha": PackageRelations(depends: [], provides: []),
        ]
        let template = PackageStage(location: SourceLocation(file: "/site/templates/Site.swift", line: 4), requested: ["less"])
        let system = PackageStage(location: SourceLocation(file: "/site/systems/a.swift", line: 3), requested: ["less", "tmux"])
        let set = ["base-files", "less", "libc6", "libevent", "mawk", "tmux", "chosen-by-apt"].map(package)
        let layers = PackageLayering.layers(of: set, stages: [template, system], essential: ["base-files", "not-in-set"],
                                            relations: relations, sourceDateEpoch: 200)
        #expect(layers.map(\.packages) == [["base-files", "less", "libc6"], ["chosen-by-apt", "libevent", "mawk", "tmux"]])
        #expect(layers.map(\.stage) == ["templates/Site.swift:4", "systems/a.swift:3"])
        #expect(layers.map(\.sourceDateEpoch) == [200, 200])

        // Before tmux, the system was its template alone, locked at 100: the template's layer keeps 100.
        let before = PackageLock.PackageSet(
            systems: ["a"], distribution: .bookworm, architecture: .amd64, sources: "host", requested: ["less"],
            sourceDateEpoch: 100, packages: ["base-files", "less", "libc6"].map(package),
            layers: [PackageLock.Layer(stage: "templates/Site.swift:4", requested: ["less"], packages: ["base-files", "less", "libc6"],
                                       sourceDateEpoch: 100)])
        let again = PackageLayering.layers(of: set, stages: [template, system], essential: ["base-files"], relations: relations,
                                           sourceDateEpoch: 200, known: [before])
        #expect(again.map(\.sourceDateEpoch) == [100, 200])
        // Another version of less: another layer, dated anew.
        var moved = set
        moved[1].version = "2"
        moved[1].sha256 = "less-2-sha"
        let afresh = PackageLayering.layers(of: moved, stages: [template, system], essential: ["base-files"], relations: relations,
                                            sourceDateEpoch: 200, known: [before])
        #expect(afresh.map(\.sourceDateEpoch) == [200, 200])
    }

    @Test func aStaleLockSaysWhatChangedAndHowToRefresh() throws {
        let file = try repository()
        let (lock, url, _) = try Locker().lock(try Support.evaluator().evaluate(file.path))
        try Self.definition.replacingOccurrences(of: "Packages(\"htop\")", with: "Packages(\"tmux\")")
            .write(to: file, atomically: true, encoding: .utf8)
        let changed = try Support.evaluator().evaluate(file.path).systems[0].model
        do {
            _ = try lock.set(for: changed, lockFile: url)
            Issue.record("a stale lock was accepted")
        } catch let error as DefinitionError {
            #expect(error.diagnostics.map(\.message) == [
                "the lock file is out of date for 'locked1' (packages added tmux; removed htop); "
                    + "run `imagec lock \(file.path)` to update it",
            ])
            #expect(error.diagnostics.first?.location?.line == 3)
        }
    }

    @Test func layersThatDoNotAddUpAreRefused() throws {
        let file = try repository()
        var (lock, url, _) = try Locker().lock(try Support.evaluator().evaluate(file.path))
        let model = try Support.evaluator().evaluate(file.path).systems[0].model
        #expect(try lock.set(for: model, lockFile: url).layers?.count == 2)  // imagec base, then the system's
        lock.sets[0].layers![1].packages.removeLast()
        do {
            _ = try lock.set(for: model, lockFile: url)
            Issue.record("layers missing a package were accepted")
        } catch let error as DefinitionError {
            #expect(error.diagnostics.map(\.message) == [
                "the lock file's layers for 'locked1' do not hold each of its packages once; run `imagec lock \(file.path)` to update it",
            ])
            #expect(error.diagnostics.first?.location?.file == url.path)
        }
    }

    @Test func anUnknownPackageIsReportedAtTheLineThatAsksForIt() throws {
        let file = try repository(Self.definition.replacingOccurrences(of: "Packages(\"htop\")", with: "Packages(\"htop\", \"no-such-package-imagec\")"))
        do {
            _ = try Locker().lock(try Support.evaluator().evaluate(file.path))
            Issue.record("an unknown package was locked")
        } catch let error as DefinitionError {
            #expect(error.diagnostics.map(\.description) == [
                "\(file.path):5: error: package 'no-such-package-imagec' is not in the apt sources for Debian bookworm amd64 (the build host's apt sources)",
            ])
        }
        #expect(!FileManager.default.fileExists(atPath: PackageLock.url(for: file).path))
    }

    @Test func anUnreachableSourceIsNamed() throws {
        // Nothing listens on 127.0.0.1:9 (discard): the connection is refused.
        let file = try repository(Self.definition.replacingOccurrences(
            of: "OpenSSH()", with: #"AptSource(uris: ["http://127.0.0.1:9/debian"], suites: ["bookworm"], components: ["main"])"#))
        do {
            _ = try Locker().lock(try Support.evaluator().evaluate(file.path))
            Issue.record("a lock was made from an unreachable source")
        } catch let error as BuildEnvironmentError {
            #expect("\(error)".hasPrefix("cannot reach the apt source http://127.0.0.1:9/debian bookworm InRelease: "), "\(error)")
            #expect("\(error)".contains("Connection refused"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: PackageLock.url(for: file).path))
    }
}

/// A tool missing on the build host is named with the Debian package that provides it.
struct MissingToolTests {
    @Test func theErrorNamesThePackage() throws {
        let tools = Tools(environment: [:], scratch: try Support.temporaryDirectory())
        #expect {
            try tools.run("/nonexistent/sbin/mke2fs", [])
        } throws: { error in
            "\(error)" == "/nonexistent/sbin/mke2fs is missing: install the Debian package 'e2fsprogs' (scripts/setup installs everything)"
        }
    }
}

/// Reading the host's apt sources, in both formats, for another release.
struct HostAptSourcesTests {
    @Test func bothFormatsAndReleaseSubstitution() throws {
        let root = try Support.temporaryDirectory()
        try FileManager.default.createDirectory(at: root.appendingPathComponent("sources.list.d"), withIntermediateDirectories: true)
        try """
            deb [arch=amd64 signed-by=/usr/share/keyrings/lab.gpg] http://mirror.lab.example/debian bookworm main contrib
            # deb http://mirror.lab.example/debian bookworm-backports main
            deb-src http://mirror.lab.example/debian bookworm main

            """.write(to: root.appendingPathComponent("sources.list"), atomically: true, encoding: .utf8)
        try """
            Types: deb
            URIs: http://mirror.lab.example/debian
            Suites: bookworm bookworm-updates
            Components: main
            Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

            Types: deb
            URIs: http://mirror.lab.example/debian-security
            Suites: bookworm-security
            Components: main
            Enabled: no

            """.write(to: root.appendingPathComponent("sources.list.d/debian.sources"), atomically: true, encoding: .utf8)
        try "deb http://ignored.lab.example/ bookworm main\n"
            .write(to: root.appendingPathComponent("sources.list.d/other.list.disabled"), atomically: true, encoding: .utf8)

        let sources = HostAptSources.read(for: "trixie", root: root, hostRelease: "bookworm")
        #expect(sources == [
            AptSource(uris: ["http://mirror.lab.example/debian"], suites: ["trixie"], components: ["main", "contrib"],
                      signedBy: "/usr/share/keyrings/lab.gpg"),
            AptSource(uris: ["http://mirror.lab.example/debian"], suites: ["trixie", "trixie-updates"], components: ["main"],
                      signedBy: "/usr/share/keyrings/debian-archive-keyring.gpg"),
        ])
    }
}
