import Foundation
@testable import ImageBuild
@testable import ImagecCore
import ImageDSL
@testable import Packages
import Testing

/// Package layers along the templates, end to end, against an archive served on 127.0.0.1 that
/// the test makes from today's real packages (and never against what a mirror serves today):
/// adding a package to a system makes only its own layer on the template's, which boots with
/// the package working, and gives the same bytes from an empty store; an addition that forces a
/// template's package to a newer version makes that template's layer afresh, with no file of the
/// old version left, and the same files and contents as one layer of the whole set.
@Suite(.serialized)
struct LayerTests {
    static func template(source: String) -> String {
        """
        import ImageDSL

        enum Site {
            static let base = OperatingSystem {
                KernelArguments("net.ifnames=0")
                SerialConsole()
                OpenSSH()
                Network { Interface("eth0", .dhcp) }
                Disk(rootSize: .gibibytes(2), minimumRootSize: .gibibytes(1))
                Packages("less", "iputils-ping", "libcap2-bin")  // ping gets a file capability (an extended attribute)
        \(source)
            }
        }

        """
    }

    static func system(_ extra: String = "") -> String {
        """
        import ImageDSL

        let system = OperatingSystem(inheriting: Site.base) {
            HostName("layered1")
        \(extra)
        }

        """
    }

    /// The layers a `build --json` reports: (stage, entry, hit).
    static func layers(_ run: CommandLineTests.Run) throws -> [(stage: String, entry: String, hit: Bool)] {
        let result = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any] ?? [:]
        return (result["layers"] as? [[String: Any]] ?? []).map {
            ($0["stage"] as? String ?? "", $0["entry"] as? String ?? "", $0["hit"] as? Bool ?? false)
        }
    }

    @Test func aPackageAddedOnATemplateMakesOnlyItsLayer() throws {
        let folder = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }  // gigabytes of layers and images
        for sub in ["systems", "templates"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let file = folder.appendingPathComponent("systems/layered1.swift")
        let templateFile = folder.appendingPathComponent("templates/Site.swift")
        let lockFile = PackageLock.url(for: file)

        // Today's packages for every system of the test, locked against the build host's sources
        // and fetched into the cache the tests share: the archive is made of them.
        try Self.template(source: "").write(to: templateFile, atomically: true, encoding: .utf8)
        try Self.system(#"Packages("tmux", "htop", "console-setup")"#).write(to: file, atomically: true, encoding: .utf8)
        let (archive, today, cached) = try LocalArchive.today(for: file, seed: folder.appendingPathComponent("seed-store"))
        let source = "        AptSource(uris: [\"\(archive.uri)\"], suites: [\"bookworm\"], signedBy: \"\(archive.keyring.path)\")"
        try Self.template(source: source).write(to: templateFile, atomically: true, encoding: .utf8)
        let store = try Support.store(folder.appendingPathComponent("store"))
        let imagec = BuildTests.Imagec(folder: folder)

        // The system adds nothing to its template: what every system installs, then the template's layer.
        try Self.system().write(to: file, atomically: true, encoding: .utf8)
        #expect(try imagec.run("lock", "systems/layered1.swift").status == 0)
        let plain = try imagec.run("build", "--json", "systems/layered1.swift")
        #expect(plain.status == 0, "\(plain.standardError)")
        let templateLayer = try #require(try Self.layers(plain).last)
        #expect(try Self.layers(plain).map(\.stage) == ["imagec base", "templates/Site.swift:4"] && !templateLayer.hit)

        // tmux added: only the system's own layer is made, on the template's.
        try Self.system("""
                Packages("tmux")
                Check.command("tmux -V", prints: "tmux 3", name: "tmux")
            """).write(to: file, atomically: true, encoding: .utf8)
        let locking = try imagec.run("lock", "systems/layered1.swift")
        #expect(locking.status == 0, "\(locking.standardError)")
        let locked = try #require(try PackageLock.read(from: lockFile)?.sets.first?.layers)
        #expect(locked.map(\.stage) == ["imagec base", "templates/Site.swift:4", "systems/layered1.swift:3"])
        #expect(locked.last?.packages.contains("tmux") == true && !locked.dropLast().contains { $0.packages.contains("tmux") })
        let added = try imagec.run("build", "--json", "systems/layered1.swift")
        #expect(added.status == 0, "\(added.standardError)")
        let addedLayers = try Self.layers(added)
        #expect(addedLayers.map(\.entry).first == templateLayer.entry && addedLayers.map(\.hit) == [true, false], "\(addedLayers)")
        #expect(!added.standardError.contains("with mmdebstrap"), "the template's layer was made again")
        let addedPath = try #require((try JSONSerialization.jsonObject(with: Data(added.standardOutput.utf8)) as? [String: Any])?["path"] as? String)
        let digest = try String(contentsOf: URL(fileURLWithPath: addedPath + ".digest"), encoding: .utf8)

        // It boots, and tmux works.
        let tested = try imagec.run("test", "--firmware", "bios", "--boot-timeout", "900", "systems/layered1.swift")
        #expect(tested.status == 0, "\(tested.standardOutput)\n\(tested.standardError)")
        #expect(tested.standardError.contains("pass tmux"), "\(tested.standardError)")

        // From an empty store (the same .debs): the same bytes.
        let empty = try Support.store(folder.appendingPathComponent("empty-store"))
        let fresh = try imagec.run(["build", "--json", "systems/layered1.swift"], environment: ["IMAGEC_STORE": empty.root.path])
        #expect(fresh.status == 0, "\(fresh.standardError)")
        #expect(try Self.layers(fresh).map(\.hit) == [false, false, false])
        let freshPath = try #require((try JSONSerialization.jsonObject(with: Data(fresh.standardOutput.utf8)) as? [String: Any])?["path"] as? String)
        #expect(try String(contentsOf: URL(fileURLWithPath: freshPath + ".digest"), encoding: .utf8) == digest)
        try? FileManager.default.removeItem(at: empty.root)

        // A newer less whose files moved, and an htop that needs it: adding htop moves the
        // template's less, so the template's layer is made afresh.
        let less = try #require(today.packages.first { $0.name == "less" })
        let htop = try #require(today.packages.first { $0.name == "htop" })
        let work = folder.appendingPathComponent("rebuilt")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let (newLess, newLessFile) = try LocalArchive.rebuild(less, file: cached(less), in: work) { $0 }
        let (newHtop, newHtopFile) = try LocalArchive.rebuild(htop, file: cached(htop), in: work) {
            $0.replacingOccurrences(of: "\nDepends: ", with: "\nDepends: less (>= \(newLess.version)), ")
        }
        // (rebuild's tree: the old file out, a new one in, then packed again.)
        let lessTree = work.appendingPathComponent("less-tree")
        try FileManager.default.removeItem(at: lessTree.appendingPathComponent("usr/bin/lesskey"))
        try "new in \(newLess.version)\n".write(to: lessTree.appendingPathComponent("usr/share/doc/less/NEW-FILE"), atomically: true, encoding: .utf8)
        try LocalArchive.run("/usr/bin/dpkg-deb", ["--root-owner-group", "-b", lessTree.path, newLessFile.path])
        var repacked = newLess
        let lessData = try Data(contentsOf: newLessFile)
        repacked.sha256 = CanonicalJSON.sha256(lessData)
        repacked.size = lessData.count
        try archive.publish(today.packages.map { ($0, cached($0)) } + [(repacked, newLessFile), (newHtop, newHtopFile)])

        // console-setup adds a udev rule (usr/lib/udev/rules.d), which the initramfs does not hold:
        // the layer does not make the initramfs again.
        try Self.system(#"Packages("htop", "console-setup")"#).write(to: file, atomically: true, encoding: .utf8)
        #expect(try imagec.run("lock", "systems/layered1.swift").status == 0)
        let moved = try #require(try PackageLock.read(from: lockFile)?.sets.first)
        #expect(moved.packages.first { $0.name == "less" }?.version == newLess.version)
        #expect(moved.layers?[1].packages.contains("less") == true)
        let forced = try imagec.run("build", "--json", "systems/layered1.swift")
        #expect(forced.status == 0, "\(forced.standardError)")
        let forcedLayers = try Self.layers(forced)
        #expect(forcedLayers.map(\.hit) == [true, false, false] && forcedLayers[1].entry != templateLayer.entry, "\(forcedLayers)")
        let top = store.root.appendingPathComponent(try #require(forcedLayers.last?.entry)).appendingPathComponent("tree")
        #expect(!FileManager.default.fileExists(atPath: top.appendingPathComponent("usr/bin/lesskey").path), "a file of the old less is left")
        #expect(FileManager.default.fileExists(atPath: top.appendingPathComponent("usr/share/doc/less/NEW-FILE").path))
        // ping's capability went up through the layers; the system's layer holds links to the
        // template layer's unchanged files, not copies.
        let ping = try LocalArchive.run("/usr/bin/python3", ["-c", "import os, sys; print(os.getxattr(sys.argv[1], 'security.capability').hex())",
                                                            top.appendingPathComponent("usr/bin/ping").path])
        #expect(!ping.isEmpty, "ping has no capability in the system's layer")
        let siteTree = store.root.appendingPathComponent(forcedLayers[1].entry).appendingPathComponent("tree")
        func inode(_ tree: URL) throws -> Int? {
            try FileManager.default.attributesOfItem(atPath: tree.appendingPathComponent("usr/bin/ping").path)[.systemFileNumber] as? Int
        }
        #expect(try inode(top) == inode(siteTree) && inode(top) != nil)
        // console-setup's udev rule is not in the initramfs: it still comes from the bottom layer.
        #expect(FileManager.default.fileExists(atPath: top.appendingPathComponent("usr/lib/udev/rules.d/90-console-setup.rules").path))
        #expect(PackageLayer.initramfsLayer(of: top.deletingLastPathComponent()) == forcedLayers[0].entry)

        // The same files and contents as the whole set installed as one layer; only the files
        // that record the order packages were configured in may differ (system users' ids).
        var flat = moved
        flat.layers = nil
        let one = PackageLayer.chain(of: flat, debs: DebCache(store: store))
        #expect(one.count == 1)
        let flatEntry = try store.entry(one[0].entryName) { entry in
            try one[0].make(in: entry, on: nil, scratch: folder.appendingPathComponent("flat-scratch"), progress: .silent)
        }
        let flatTree = flatEntry.appendingPathComponent("tree")
        let differences = try Self.differences(top, flatTree)
        let orderOnly: Set<String> = ["etc/group", "etc/group-", "etc/gshadow", "etc/gshadow-", "etc/passwd", "etc/passwd-",
                                      "etc/shadow", "etc/shadow-", "var/lib/dpkg/status-old"]
        #expect(differences.filter { !orderOnly.contains($0) && !$0.hasPrefix("mtime ") } == [], "\(differences)")

        // The initramfs the system boots with, made from the bottom layer (with its older date),
        // holds the same files as one made from the whole set; only their times differ.
        let bottomDate = try #require(moved.layers?[0].sourceDateEpoch)
        let layered = try #require(store.entry(InitramfsEntry(layer: forcedLayers[0].entry, sourceDateEpoch: bottomDate).entryName))
        let whole = InitramfsEntry(layer: one[0].entryName, sourceDateEpoch: one[0].layer.sourceDateEpoch)
        let wholeEntry = try store.entry(whole.entryName) { entry in
            try whole.make(in: entry, from: flatTree, scratch: folder.appendingPathComponent("initramfs-scratch"))
        }
        // imagec's hook functions make the very archive the release's own make, byte for byte.
        if InitramfsHookFunctions.apply(to: flatTree) {
            #expect(try String(contentsOf: wholeEntry.appendingPathComponent("build.log"), encoding: .utf8).hasPrefix("imagec's hook functions"))
            let stock = folder.appendingPathComponent("initramfs-release-functions")
            try FileManager.default.createDirectory(at: stock, withIntermediateDirectories: true)
            try whole.make(in: stock, from: flatTree, scratch: folder.appendingPathComponent("initramfs-scratch-2"), releaseHookFunctions: true)
            let made = try InitramfsEntry.images(in: wholeEntry), expected = try InitramfsEntry.images(in: stock)
            #expect(made.map(\.lastPathComponent) == expected.map(\.lastPathComponent))
            for (first, second) in zip(made, expected) {
                #expect(FileManager.default.contentsEqual(atPath: first.path, andPath: second.path), "\(first.lastPathComponent)")
            }
        } else {
            print("LayerTests: this initramfs-tools release defines its own hook functions otherwise; imagec's are not used")
        }
        let images = try [layered, wholeEntry].map { try InitramfsEntry.images(in: $0) }
        #expect(images[0].map(\.lastPathComponent) == images[1].map(\.lastPathComponent) && images[0].count == 1)
        for (first, second) in zip(images[0], images[1]) {
            let unpacked = try [first, second].enumerated().map { index, image in
                let folder = folder.appendingPathComponent("initramfs-\(index)")
                try LocalArchive.run("/bin/sh", ["-c", #"mkdir -p "$2" && cd "$2" && zstd -dc "$1" | cpio -id --quiet"#,
                                                 "sh", image.path, folder.path])
                return folder
            }
            let inside = try Self.differences(unpacked[0], unpacked[1]).filter { !$0.hasPrefix("mtime ") }
            #expect(inside == [], "\(first.lastPathComponent): \(inside)")
        }

        // A tmux whose postinst fails, built from an empty store: the layers below are made on
        // their own threads beside it. The build stops with the install's error and hangs on
        // nothing; the layers below are whole entries, the failed one is not in the store, and
        // no tree is left in memory.
        let tmux = try #require(today.packages.first { $0.name == "tmux" })
        let (brokenTmux, brokenTmuxFile) = try LocalArchive.rebuild(tmux, file: cached(tmux), in: work)
        let tmuxTree = work.appendingPathComponent("tmux-tree")
        let postinst = tmuxTree.appendingPathComponent("DEBIAN/postinst")
        try "#!/bin/sh\necho 'imagec test: this postinst fails' >&2\nexit 1\n".write(to: postinst, atomically: true, encoding: .utf8)
        chmod(postinst.path, 0o755)
        try LocalArchive.run("/usr/bin/dpkg-deb", ["--root-owner-group", "-b", tmuxTree.path, brokenTmuxFile.path])
        var broken = brokenTmux
        let brokenData = try Data(contentsOf: brokenTmuxFile)
        broken.sha256 = CanonicalJSON.sha256(brokenData)
        broken.size = brokenData.count
        try archive.publish(today.packages.map { ($0, cached($0)) } + [(repacked, newLessFile), (newHtop, newHtopFile), (broken, brokenTmuxFile)])
        try Self.system(#"Packages("tmux")"#).write(to: file, atomically: true, encoding: .utf8)
        let lockedBroken = try imagec.run("lock", "systems/layered1.swift")
        #expect(lockedBroken.status == 0, "\(lockedBroken.standardError)")
        #expect(try PackageLock.read(from: lockFile)?.sets.first?.packages.first { $0.name == "tmux" }?.version == broken.version)
        let failingStore = try Support.store(folder.appendingPathComponent("failing-store"))
        let failed = try imagec.run(["build", "systems/layered1.swift"], environment: ["IMAGEC_STORE": failingStore.root.path])
        #expect(failed.status != 0)
        #expect(failed.standardError.contains("mmdebstrap") && failed.standardError.contains("tmux"), "\(failed.standardError)")
        let left = try FileManager.default.contentsOfDirectory(atPath: failingStore.root.path)
        #expect(!left.contains { $0.hasPrefix(".tmp-") }, "\(left)")
        let layersLeft = left.filter { $0.contains("-rootfs-") }.sorted()
        #expect(layersLeft.count == 2, "\(left)")
        for name in layersLeft {
            #expect(FileManager.default.fileExists(atPath: failingStore.root.appendingPathComponent(name).appendingPathComponent("tree/usr/bin/dpkg").path))
        }
        let abandoned = try FileManager.default.contentsOfDirectory(atPath: "/dev/shm").filter { name in
            guard name.hasPrefix("imagec-"), let pid = Int32(name.dropFirst(7).prefix { $0.isNumber }) else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }
        #expect(abandoned.isEmpty, "trees left in memory: \(abandoned)")
    }

    /// Paths present in one tree only, or whose type, mode, owner or contents differ (a
    /// difference of modification time alone is listed as `mtime <path>`).
    static func differences(_ first: URL, _ second: URL) throws -> [String] {
        let script = """
            import hashlib, os, stat, sys
            def walk(root):
                out = {}
                for folder, dirs, files in os.walk(root):
                    for name in dirs + files:
                        path = os.path.join(folder, name)
                        st = os.lstat(path)
                        if stat.S_ISREG(st.st_mode):
                            with open(path, 'rb') as f: content = hashlib.sha256(f.read()).hexdigest()
                        elif stat.S_ISLNK(st.st_mode): content = os.readlink(path)
                        else: content = ''
                        attributes = tuple(sorted((n, os.getxattr(path, n, follow_symlinks=False))
                                                  for n in os.listxattr(path, follow_symlinks=False)))
                        out[os.path.relpath(path, root)] = ((st.st_mode, st.st_uid, st.st_gid, content, attributes), int(st.st_mtime))
                return out
            a, b = walk(sys.argv[1]), walk(sys.argv[2])
            for path in sorted(set(a) | set(b)):
                if path not in a or path not in b or a[path][0] != b[path][0]: print(path)
                elif a[path][1] != b[path][1]: print('mtime ' + path)
            """
        let output = try LocalArchive.run("/usr/bin/python3", ["-c", script, first.path, second.path])
        return String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
