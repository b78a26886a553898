import Foundation
@testable import ImageBuild
@testable import ImagecCore
import ImageDSL
@testable import Packages
import Testing

/// A lock stays buildable when its versions leave the archive: the store's cache, then the apt
/// sources, then a snapshot archive at the lock's time; a clear error when none has them;
/// `imagec lock --update` moving only what must move. Against an archive served on 127.0.0.1
/// that the test makes from the store's .debs, never against what a mirror serves today.
@Suite(.serialized)
struct PackageOriginsTests {
    static func definition(sources: String = "", snapshots: [String] = []) -> String {
        """
        import ImageDSL

        let system = OperatingSystem {
            HostName("archived1")
        \(sources)\(snapshots.map { "    SnapshotArchive(\"\($0)\")\n" }.joined())    KernelArguments("net.ifnames=0")
            Packages("htop")
            OpenSSH()
            Network { Interface("eth0", .dhcp) }
            Disk(rootSize: .gibibytes(2), minimumRootSize: .gibibytes(1))
        }

        """
    }

    /// Final entries of a store: what a build could take.
    static func entries(_ store: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: store.path)) ?? []).filter { !$0.hasPrefix(".") && $0 != "debs" }.sorted()
    }

    @Test func aLockStaysBuildableWhenItsVersionsLeaveTheArchive() throws {
        let folder = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("systems"), withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("systems/archived1.swift")
        let lockFile = PackageLock.url(for: file)

        // The real packages of today, locked against the build host's sources and fetched
        // into the cache the tests share: the archive is made of them.
        try Self.definition().write(to: file, atomically: true, encoding: .utf8)
        let (archive, today, cached) = try LocalArchive.today(for: file, seed: folder.appendingPathComponent("seed-store"))
        let source = "    AptSource(uris: [\"\(archive.uri)\"], suites: [\"bookworm\"], signedBy: \"\(archive.keyring.path)\")\n"

        // Locked against the test's archive: the same .debs, and the time of its Release file.
        try Self.definition(sources: source).write(to: file, atomically: true, encoding: .utf8)
        let imagec = BuildTests.Imagec(folder: folder)
        let locking = try imagec.run("lock", "systems/archived1.swift")
        #expect(locking.status == 0, "\(locking.standardError)")
        let set = try #require(try PackageLock.read(from: lockFile)?.sets.first)
        #expect(set.packages.map(\.sha256) == today.packages.map(\.sha256))
        let release = try #require(set.releases?.first)
        #expect(set.releases?.count == 1 && release.archive == "debian" && release.suite == "bookworm", "\(set.releases ?? [])")
        #expect(abs(release.date - Int(Date().timeIntervalSince1970)) < 600 && set.sourceDateEpoch == release.date)

        // htop leaves the archive for a new version that needs a newer libnl-genl-3-200 (also
        // published, beside the old one); adduser's file is corrupted on the server.
        let htop = try #require(set.packages.first { $0.name == "htop" })
        let library = try #require(set.packages.first { $0.name == "libnl-genl-3-200" })
        let newLibrary = try LocalArchive.rebuild(library, file: cached(library), in: folder)
        let newHtop = try LocalArchive.rebuild(htop, file: cached(htop), in: folder) { control in
            control.replacing(/libnl-genl-3-200 \([^)]*\)/, with: "libnl-genl-3-200 (>= \(newLibrary.0.version))")
        }
        try archive.publish(set.packages.filter { $0.name != "htop" }.map { ($0, cached($0)) } + [newHtop, newLibrary])
        let adduser = try #require(set.packages.first { $0.name == "adduser" })
        let served = archive.debian.appendingPathComponent(LocalArchive.decoded(adduser.path))
        var corrupted = try Data(contentsOf: served)
        corrupted[corrupted.count / 2] ^= 0x01
        try FileManager.default.removeItem(at: served)  // a hard link to the shared cache: replaced, not written
        try corrupted.write(to: served)

        // 1. The store's cache has every package: nothing is asked of the archive.
        let declared = AptSource(uris: [archive.uri], suites: ["bookworm"], signedBy: archive.keyring.path)
        #expect(try DebCache(store: Store(root: folder.appendingPathComponent("seed-store"))).fetch(set, origins: ArchiveOrigin.aptSources([declared])) == 0)

        // 2. An empty store and no snapshot: the build stops before any work, naming each
        // package, why each place did not have it, and the two ways out.
        let missing = try imagec.run("build", "systems/archived1.swift")
        #expect(missing.status == 3, "\(missing.standardError)")
        let error = missing.standardError
        // The test's own lock, named relative to the folder imagec ran in.
        let lockName = "systems/" + lockFile.lastPathComponent
        #expect(error.contains("\(lockName): error: 2 locked packages are in none of the places tried:\n"), "\(error)")
        #expect(error.contains("\n  adduser \(adduser.version) (all)\n    the apt source \(archive.uri): its SHA-256 differs from the lock's\n"), "\(error)")
        #expect(error.contains("\n  htop \(htop.version) (amd64)\n    the apt source \(archive.uri): 404"), "\(error)")
        #expect(error.contains("no snapshot archive (the definition declares none)"), "\(error)")
        #expect(error.contains("SnapshotArchive(") && error.contains("imagec lock --update systems/archived1.swift"), "\(error)")
        #expect(!error.contains("package layer"), "the build did work before failing: \(error)")
        #expect(Self.entries(folder.appendingPathComponent("store")).isEmpty)

        // 3. Snapshot archives that refuse connections or never answer: the same error,
        // naming them, in bounded time.
        let silent = try SilentListener()
        let unreachable = ["http://127.0.0.1:1/archive/{archive}/{timestamp}/", "http://127.0.0.1:\(silent.port)/archive/{archive}/{timestamp}/"]
        try Self.definition(sources: source, snapshots: unreachable).write(to: file, atomically: true, encoding: .utf8)
        let started = Date()
        let down = try imagec.run(["build", "systems/archived1.swift"], environment: ["IMAGEC_FETCH_TIMEOUT": "3"])
        #expect(down.status == 3 && down.standardError.contains("2 locked packages are in none of the places tried"), "\(down.standardError)")
        #expect(down.standardError.contains("the snapshot archive http://127.0.0.1:1/archive/debian/\(PackageLock.Release.timestamp(release.date))/: Could not connect"),
                "\(down.standardError)")
        #expect(down.standardError.contains("the snapshot archive http://127.0.0.1:\(silent.port)/archive/debian/"), "\(down.standardError)")
        #expect(Date().timeIntervalSince(started) < 120, "a silent snapshot archive held the build")

        // 4. The snapshot taken an hour after the lock's Release file has them: the refused one
        // is passed over, the snapshot at the lock's time (none yet) then half a day later
        // tried; the build succeeds and says where each package came from.
        try archive.snapshot([(htop, cached(htop)), (adduser, cached(adduser))], at: release.date + 3600)
        try Self.definition(sources: source, snapshots: [unreachable[0], archive.snapshotTemplate]).write(to: file, atomically: true, encoding: .utf8)
        let built = try imagec.run("build", "systems/archived1.swift")
        #expect(built.status == 0, "\(built.standardError)")
        let later = "http://127.0.0.1:\(archive.port)/archive/debian/\(PackageLock.Release.timestamp(release.date + 12 * 3600))/"
        #expect(built.standardError.contains("  htop \(htop.version) from the snapshot archive \(later)\n"), "\(built.standardError)")
        #expect(built.standardError.contains("  adduser \(adduser.version) from the snapshot archive \(later)\n"), "\(built.standardError)")
        // The other packages came from the apt source in the builds that failed, and stayed in the cache.
        #expect(built.standardError.contains("fetching 2 packages"), "\(built.standardError)")
        #expect(Self.entries(folder.appendingPathComponent("store")).count == 5)  // two layers (imagec base, the system's), initramfs, root base, image

        // 5. `imagec lock --update` moves htop, and libnl-genl-3-200 which its new version
        // needs; every other package keeps its version, though newer ones are not in question.
        let update = try imagec.run("lock", "--update", "systems/archived1.swift")
        #expect(update.status == 0, "\(update.standardError)")
        #expect(update.standardOutput.contains("""
            archived1: \(set.packages.count) packages (\(set.requested.count) requested), Debian bookworm amd64, 2 changed:
              ~ htop \(htop.version) → \(newHtop.0.version)
              ~ libnl-genl-3-200 \(library.version) → \(newLibrary.0.version)

            """), "\(update.standardOutput)\n\(update.standardError)")
        let updated = try #require(try PackageLock.read(from: lockFile)?.sets.first)
        #expect(updated.packages.filter { !["htop", "libnl-genl-3-200"].contains($0.name) }
                == set.packages.filter { !["htop", "libnl-genl-3-200"].contains($0.name) })
        // With its source, as the Packages list says: a .deb without Source: is its own source.
        var expected = newHtop.0
        expected.source = "htop"
        expected.sourceVersion = expected.version
        #expect(updated.packages.first { $0.name == "htop" } == expected)
        // Run again, nothing moves and the lock is left as it is.
        let again = try imagec.run("lock", "--update", "systems/archived1.swift")
        let kept = try PackageLock.read(from: lockFile)
        #expect(again.standardOutput.contains(", unchanged\n") && kept == PackageLock(sets: [updated]), "\(again.standardOutput)")
    }
}

/// A TCP port that accepts connections and never answers: a server that hangs.
final class SilentListener {
    let socket: Int32
    let port: Int

    init() throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.socket = socket
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound, listen(socket, 16) == 0 else { throw BuildEnvironmentError("cannot listen on 127.0.0.1") }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(socket) }
}
