import DefinitionEvaluation
import Foundation
import ImagecCore
import ImageDSL
import Packages
import Testing

/// `imagec build` end to end, as users run it: a real package layer and disk; interrupted by
/// SIGKILL, run twice at once, rebuilt after a one-value change, checked from scratch,
/// converted to qcow2 and garbage-collected. (ExampleImagesTests boots the images.)
@Suite(.serialized)
struct BuildTests {
    static let definition = """
        import ImageDSL

        let system = OperatingSystem {
            HostName("built1")
            Timezone("Europe/Paris")
            KernelArguments("net.ifnames=0")
            SerialConsole()
            OpenSSH()
            Network { Interface("eth0", .dhcp) }
            User("alice", uid: 2001, groups: ["sudo"], sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJuX8+rxvvy5cCq6JpWA41kqg3agrhGJcMpfSKgjRqfD alice@lab"])
            File("/etc/motd", contents: "MOTD-ONE\\n")
            Disk(rootSize: .gibibytes(2), minimumRootSize: .gibibytes(1))
        }

        """

    /// `imagec` with its own store and evaluation cache, run in `folder`.
    struct Imagec {
        let folder: URL
        var executable: URL { DSLToolchain.currentExecutable.deletingLastPathComponent().appendingPathComponent("imagec") }

        func start(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (process: Process, output: URL, errors: URL) {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            process.currentDirectoryURL = folder
            var environment = ProcessInfo.processInfo.environment
            environment["IMAGEC_STORE"] = folder.appendingPathComponent("store").path
            environment["IMAGEC_CACHE_DIR"] = folder.appendingPathComponent("cache").path
            environment["IMAGEC_SECRETS"] = folder.appendingPathComponent("secrets").path
            environment.merge(extra) { $1 }
            process.environment = environment
            let id = UUID().uuidString
            let output = folder.appendingPathComponent("out-\(id).txt"), errors = folder.appendingPathComponent("err-\(id).txt")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: output)
            process.standardError = try FileHandle(forWritingTo: errors)
            try process.start()
            return (process, output, errors)
        }

        func run(_ arguments: String...) throws -> CommandLineTests.Run { try run(arguments) }

        func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandLineTests.Run {
            let (process, output, errors) = try start(arguments, environment: environment)
            process.waitUntilExit()
            return CommandLineTests.Run(status: process.terminationStatus,
                                        standardOutput: String(decoding: try Data(contentsOf: output), as: UTF8.self),
                                        standardError: String(decoding: try Data(contentsOf: errors), as: UTF8.self))
        }

        /// Starts a build and kills it with SIGKILL once its progress shows `line`.
        func killBuild(when line: String, after delay: Double = 0) throws {
            try kill(["build", "systems/built1.swift"], when: line, after: delay)
        }

        /// Runs imagec with `arguments` and kills it (SIGKILL) once its progress shows `line`.
        func kill(_ arguments: [String], when line: String, after delay: Double = 0) throws {
            try kill(arguments, when: "'\(line)'", after: delay) { $0.contains(line) }
        }

        /// Runs imagec with `arguments` and kills it (SIGKILL) once `ready(its progress)` holds.
        func kill(_ arguments: [String], when what: String, after delay: Double = 0, ready: (String) -> Bool) throws {
            let (process, _, errors) = try start(arguments)
            let started = Date()
            while process.isRunning, Date().timeIntervalSince(started) < 900 {
                if ready((try? String(contentsOf: errors, encoding: .utf8)) ?? "") { break }
                usleep(50_000)
            }
            #expect(process.isRunning, "imagec \(arguments[0]) ended before \(what): \((try? String(contentsOf: errors, encoding: .utf8)) ?? "")")
            usleep(UInt32(delay * 1_000_000))
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
        }
    }

    /// The store's complete entries (its folders not starting with a dot), by kind.
    func entries(_ store: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: store.path).filter { !$0.hasPrefix(".") && $0 != "debs" }.sorted()
    }

    @Test func buildFromTheCommandLine() throws {
        let folder = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }  // gigabytes of images and layers
        let file = folder.appendingPathComponent("systems/built1.swift")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Self.definition.write(to: file, atomically: true, encoding: .utf8)
        let store = try Support.store(folder.appendingPathComponent("store"))
        let imagec = Imagec(folder: folder)

        // Killed while mmdebstrap installs: no entry, and the next build succeeds.
        try imagec.killBuild(when: "with mmdebstrap", after: 5)
        #expect(try entries(store.root) == [])
        #expect(FileManager.default.fileExists(atPath: PackageLock.url(for: file).path))

        let built = try imagec.run("build", "--json", "systems/built1.swift")
        #expect(built.status == 0, "\(built.standardError)")
        let result = try JSONSerialization.jsonObject(with: Data(built.standardOutput.utf8)) as? [String: Any] ?? [:]
        let path = try #require(result["path"] as? String)
        let entry = URL(fileURLWithPath: path).deletingLastPathComponent()
        #expect(result["hostName"] as? String == "built1")
        #expect((result["digest"] as? String).map { entry.lastPathComponent == "\($0.dropFirst(7))-built1" } == true)
        #expect(result["cacheHits"] as? [String: Bool] == ["image": false, "packageLayer": false, "rootBase": false, "substituted": false])
        // (No fetch step: the .debs are in the cache the tests share, and nothing is fetched.)
        for step in ["package layer 1/2 (imagec base)", "package layer 2/2 (systems/built1.swift:3)", "initramfs", "root base", "configure", "disk", "digest"] {
            #expect(built.standardError.contains("\n\(step): "), "no progress line for \(step)")
        }
        let entryFiles = try FileManager.default.contentsOfDirectory(atPath: entry.path).sorted()
        #expect(entryFiles == ["build.log", "disk.raw", "disk.raw.digest", "inputs", "lock.json", "sbom.cdx.json", "sbom.spdx.json", "system.json"])
        // Its SBOMs: each locked package once, with its purl and SHA-256; valid for the reference validators.
        let lock = try #require(try PackageLock.read(from: PackageLock.url(for: file))?.sets.first)
        let spdx = try JSONSerialization.jsonObject(with: Data(contentsOf: entry.appendingPathComponent("sbom.spdx.json"))) as? [String: Any] ?? [:]
        let debs = (spdx["packages"] as? [[String: Any]] ?? []).filter { $0["primaryPackagePurpose"] as? String == "LIBRARY" }
        #expect(debs.count == lock.packages.count)
        for package in lock.packages {
            let entry = debs.filter { $0["name"] as? String == package.name && $0["versionInfo"] as? String == package.version }
            let checksum = ((entry.first?["checksums"] as? [[String: Any]])?.first?["checksumValue"] as? String)
            let purl = ((entry.first?["externalRefs"] as? [[String: Any]])?.first?["referenceLocator"] as? String)
            #expect(entry.count == 1 && checksum == package.sha256 && purl?.hasPrefix("pkg:deb/debian/\(package.name)@") == true, "\(package.name)")
        }
        let spdxCheck = try SBOMTests.validate(["\(SBOMTests.validators)/bin/pyspdxtools", "--infile", entry.appendingPathComponent("sbom.spdx.json").path])
        #expect(spdxCheck.status == 0, "\(spdxCheck.output)")
        let cycloneDXCheck = try SBOMTests.validate(["\(SBOMTests.validators)/bin/python", "-c", SBOMTests.cycloneDXValidator, entry.appendingPathComponent("sbom.cdx.json").path])
        #expect(cycloneDXCheck.status == 0, "\(cycloneDXCheck.output)")
        let printed = try imagec.run("sbom", "--format", "cyclonedx", "systems/built1.swift")
        let written = try Data(contentsOf: entry.appendingPathComponent("sbom.cdx.json"))
        #expect(printed.status == 0 && Data(printed.standardOutput.utf8) == written)
        // Every binary has its source (a GENERATES relationship).
        let generated = Set((spdx["relationships"] as? [[String: Any]] ?? []).filter { $0["relationshipType"] as? String == "GENERATES" }
            .compactMap { $0["relatedSpdxElement"] as? String })
        #expect(debs.allSatisfy { generated.contains($0["SPDXID"] as? String ?? "") })
        // Made again from the lock and the layer with another time zone, locale, umask and working
        // folder: the same bytes.
        let original = try Data(contentsOf: entry.appendingPathComponent("sbom.spdx.json"))
        try FileManager.default.removeItem(at: entry.appendingPathComponent("sbom.spdx.json"))
        try FileManager.default.removeItem(at: entry.appendingPathComponent("sbom.cdx.json"))
        let elsewhere = Process()
        elsewhere.executableURL = URL(fileURLWithPath: "/bin/sh")
        elsewhere.arguments = ["-c", "umask 077; exec \"$0\" sbom built1.swift > ../sbom-again.json", imagec.executable.path]
        elsewhere.currentDirectoryURL = folder.appendingPathComponent("systems")
        elsewhere.environment = ProcessInfo.processInfo.environment.merging([
            "IMAGEC_STORE": folder.appendingPathComponent("store").path, "IMAGEC_CACHE_DIR": folder.appendingPathComponent("cache").path,
            "TZ": "Pacific/Auckland", "LANG": "fr_FR.UTF-8", "LC_ALL": "fr_FR.UTF-8",
        ]) { $1 }
        try elsewhere.run()
        elsewhere.waitUntilExit()
        let madeAgain = try Data(contentsOf: folder.appendingPathComponent("sbom-again.json"))
        #expect(elsewhere.terminationStatus == 0 && madeAgain == original)
        let sha = try String(contentsOf: entry.appendingPathComponent("disk.raw.digest"), encoding: .utf8)
        #expect(try "\(DiskDigestTests.referenceDigest(of: entry.appendingPathComponent("disk.raw")))  disk.raw\n" == sha)

        // The configuration is in the image, and nothing secret or machine-unique.
        let disk = try DiskReader(entry.appendingPathComponent("disk.raw"))
        #expect(try disk.read("/etc/hostname") == "built1\n")
        #expect(try disk.read("/etc/motd") == "MOTD-ONE\n")
        #expect(try disk.read("/etc/passwd").contains("\nalice:x:2001:2001::/home/alice:/bin/bash\n"))
        #expect(try disk.read("/etc/group").contains(":alice"))
        #expect(try disk.read("/etc/ssh/authorized_keys/alice").hasPrefix("ssh-ed25519 "))
        #expect(try disk.debugfs("stat /etc/localtime").contains("Fast link dest: \"/usr/share/zoneinfo/Europe/Paris\""))
        #expect(try disk.read("/etc/machine-id") == "")
        #expect(try disk.read("/etc/ssh/ssh_host_ed25519_key.pub") == "")

        // Unchanged: the path at once, as the last line.
        let again = try imagec.run("build", "systems/built1.swift")
        #expect(again.status == 0 && again.standardOutput == entry.path + "\n")

        // Two definitions in one command, two systems at once: a path per system in the files'
        // order, each progress line naming its system. built2 asks for the same packages: its
        // package layer and root base are built1's.
        let second = folder.appendingPathComponent("systems/built2.swift")
        try Self.definition.replacingOccurrences(of: "HostName(\"built1\")", with: "HostName(\"built2\")").write(to: second, atomically: true, encoding: .utf8)
        try String(contentsOf: PackageLock.url(for: file), encoding: .utf8).replacingOccurrences(of: "\"built1\"", with: "\"built2\"")
            .write(to: PackageLock.url(for: second), atomically: true, encoding: .utf8)
        let both = try imagec.run("build", "--json", "--jobs", "2", "systems/built1.swift", "systems/built2.swift")
        #expect(both.status == 0, "\(both.standardError)")
        let results = try JSONSerialization.jsonObject(with: Data(both.standardOutput.utf8)) as? [[String: Any]] ?? []
        #expect(results.map { $0["hostName"] as? String } == ["built1", "built2"])
        #expect(results.first?["cacheHits"] as? [String: Bool] == ["image": true, "packageLayer": true, "rootBase": true, "substituted": false])
        #expect(results.last?["cacheHits"] as? [String: Bool] == ["image": false, "packageLayer": true, "rootBase": true, "substituted": false])
        #expect(both.standardError.contains("\nbuilt2: configure: ") && !both.standardError.contains("\nconfigure: "), "\(both.standardError)")
        let built2Path = try #require(results.last?["path"] as? String)
        let bothAgain = try imagec.run("build", "systems/built1.swift", "systems/built2.swift")
        #expect(bothAgain.status == 0 && bothAgain.standardOutput == entry.path + "\n" + URL(fileURLWithPath: built2Path).deletingLastPathComponent().path + "\n")
        #expect(try DiskReader(URL(fileURLWithPath: built2Path)).read("/etc/hostname") == "built2\n")

        // Pushed to the local pool its deployment names (not part of the digest); again: nothing written.
        let pool = folder.appendingPathComponent("pool")
        let deployed = Self.definition.replacingOccurrences(
            of: "    Disk(rootSize", with: "    Deployment(to: .local(\"\(pool.path)\"), disk: \"built1-root\")\n    Disk(rootSize")
        try deployed.write(to: file, atomically: true, encoding: .utf8)
        // Killed mid-upload: no image under a final name, and `pool gc` removes what it left.
        // (Once the upload's temporary file exists: the copy takes a second or two.)
        try imagec.kill(["push", "systems/built1.swift"], when: "the upload's temporary file") { _ in
            ((try? FileManager.default.contentsOfDirectory(atPath: pool.path)) ?? []).contains { $0.hasPrefix(".tmp-") }
        }
        #expect(try imagec.run("pool", "ls", "systems/built1.swift").standardOutput == "local:\(pool.path)\n")
        let collected = try imagec.run("pool", "gc", "systems/built1.swift")
        #expect(collected.status == 0 && collected.standardOutput.contains("(left by an interrupted push)"), "\(collected.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: pool.path) == [])
        let pushed = try imagec.run("push", "--json", "systems/built1.swift")
        #expect(pushed.status == 0, "\(pushed.standardError)")
        let firstPush = try #require((try JSONSerialization.jsonObject(with: Data(pushed.standardOutput.utf8)) as? [[String: Any]])?.first)
        #expect(firstPush["reused"] as? Bool == false && (firstPush["digest"] as? String).map { entry.lastPathComponent.hasPrefix($0.dropFirst(7)) } == true)
        let fullBytes = try #require(firstPush["bytesWritten"] as? Int)
        #expect(fullBytes > 100 << 20, "\(fullBytes) bytes written for a whole image")
        #expect(pushed.standardError.contains(" written in ") && pushed.standardError.contains("/s)"))
        let repushed = try imagec.run("push", "systems/built1.swift")
        #expect(repushed.status == 0 && repushed.standardError.contains("already holds this digest: nothing written"))

        // The same on Ceph RBD (a throw-away cluster): killed mid-upload, no final name; the rerun
        // completes; `pool gc` removes the leftover once the dead client's watch lapses (30 s).
        let cluster = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-ceph-\(UUID().uuidString)")
        let clusterScript = Support.repository.appendingPathComponent("scripts/ceph-cluster").path
        try ImageBuilderTestSupport.run(clusterScript, ["start", cluster.path])
        defer {
            try? ImageBuilderTestSupport.run(clusterScript, ["stop", cluster.path])
            try? FileManager.default.removeItem(at: cluster)
        }
        try deployed.replacingOccurrences(of: ".local(\"\(pool.path)\")", with: ".rbd(\"rbd\", configuration: \"\(cluster.path)/ceph.conf\")")
            .write(to: file, atomically: true, encoding: .utf8)
        try imagec.kill(["push", "systems/built1.swift"], when: " examined, ")
        let rbdListing = try imagec.run("pool", "ls", "systems/built1.swift")
        #expect(rbdListing.status == 0 && !rbdListing.standardOutput.contains("imagec_built1_"), "\(rbdListing.standardOutput)")
        let rbdPushed = try imagec.run("push", "systems/built1.swift")
        #expect(rbdPushed.status == 0 && rbdPushed.standardOutput.hasPrefix("rbd:rbd "), "\(rbdPushed.standardError)")
        var rbdCollected = try imagec.run("pool", "gc", "systems/built1.swift")
        let deadline = Date().addingTimeInterval(60)
        while rbdCollected.status != 0, rbdCollected.standardError.contains("has it open"), Date() < deadline {
            sleep(3)
            rbdCollected = try imagec.run("pool", "gc", "systems/built1.swift")
        }
        #expect(rbdCollected.status == 0 && rbdCollected.standardOutput.contains("(left by an interrupted push)"), "\(rbdCollected.standardError)")
        #expect(try imagec.run("pool", "ls", "systems/built1.swift").standardOutput.components(separatedBy: "imagec_built1_").count == 2)
        // The host's candidate: a clone with its identity, made by libguestfs over QEMU's rbd driver.
        let candidate = try imagec.run("push", "--candidate", "--json", "systems/built1.swift")
        let candidatePush = try #require((try JSONSerialization.jsonObject(with: Data(candidate.standardOutput.utf8)) as? [[String: Any]])?.first,
                                         "\(candidate.standardError)")
        #expect(candidatePush["reused"] as? Bool == true && candidatePush["candidate"] as? String == "built1-root_candidate")
        #expect(try imagec.run("pool", "ls", "systems/built1.swift").standardOutput.contains("used by built1"))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("secrets/hosts/built1/ssh_host_ed25519_key").path))
        try deployed.write(to: file, atomically: true, encoding: .utf8)

        // Killed while assembling the disk: no entry; then two builds at once both give it.
        try store.remove(entry.lastPathComponent)
        try imagec.killBuild(when: "disk…")
        #expect(store.entry(entry.lastPathComponent) == nil)
        let twins = try [imagec.start(["build", "-q", "systems/built1.swift"]), imagec.start(["build", "-q", "systems/built1.swift"])]
        for twin in twins {
            twin.process.waitUntilExit()
            #expect(twin.process.terminationStatus == 0)
            #expect(try String(contentsOf: twin.output, encoding: .utf8) == entry.path + "\n")
        }
        #expect(try String(contentsOf: entry.appendingPathComponent("disk.raw.digest"), encoding: .utf8) == sha)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root.path).filter { $0.hasPrefix(".tmp-") } == [])

        // qcow2 on request, with the same contents.
        let qcow2 = try imagec.run("build", "-q", "--format", "qcow2", "systems/built1.swift")
        #expect(qcow2.status == 0 && qcow2.standardOutput.hasSuffix("/disk.qcow2\n"))
        let qcow2Path = qcow2.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try ImageBuilderTestSupport.output("/usr/bin/qemu-img", ["compare", "-f", "raw", "-F", "qcow2", entry.path + "/disk.raw", qcow2Path])
            .contains("Images are identical"))

        // One configuration value changed: only the configuration is redone.
        try deployed.replacingOccurrences(of: "MOTD-ONE", with: "MOTD-TWO").write(to: file, atomically: true, encoding: .utf8)
        let changed = try imagec.run("build", "--json", "systems/built1.swift")
        let changedResult = try JSONSerialization.jsonObject(with: Data(changed.standardOutput.utf8)) as? [String: Any] ?? [:]
        #expect(changedResult["cacheHits"] as? [String: Bool] == ["image": false, "packageLayer": true, "rootBase": true, "substituted": false])
        let changedImage = URL(fileURLWithPath: try #require(changedResult["path"] as? String))
        #expect(try DiskReader(changedImage).read("/etc/motd") == "MOTD-TWO\n")
        // Pushed over the first image: a clone writing only the blocks that differ.
        let delta = try imagec.run("push", "--json", "systems/built1.swift")
        let deltaPush = try #require((try JSONSerialization.jsonObject(with: Data(delta.standardOutput.utf8)) as? [[String: Any]])?.first)
        #expect(deltaPush["parent"] as? String == firstPush["image"] as? String, "\(delta.standardError)")
        let deltaBytes = try #require(deltaPush["bytesWritten"] as? Int)
        #expect(deltaBytes < fullBytes / 20, "\(deltaBytes) bytes written for a one-value change, \(fullBytes) for the whole image")
        let listed = try imagec.run("pool", "ls", "systems/built1.swift")
        #expect(listed.standardOutput.contains("local:\(pool.path)\n") && listed.standardOutput.contains("clone of \(firstPush["image"] as? String ?? "?")"))

        // --check builds again from scratch in a temporary store: the same bytes.
        let checked = try imagec.run("build", "--check", "systems/built1.swift")
        #expect(checked.status == 0, "\(checked.standardError)")
        #expect(checked.standardError.contains("reproducible: a second build from scratch gave the same bytes"))

        // The first image is no longer the latest build of built1: garbage, listed then removed.
        let dryRun = try imagec.run("gc", "--dry-run")
        #expect(dryRun.standardOutput.contains(entry.path + "\n") && !dryRun.standardOutput.contains(changedImage.deletingLastPathComponent().path))
        #expect(store.entry(entry.lastPathComponent) != nil)
        #expect(try imagec.run("gc").status == 0)
        #expect(store.entry(entry.lastPathComponent) == nil)
        let kept = try entries(store.root)
        #expect(kept.contains(changedImage.deletingLastPathComponent().lastPathComponent))
        #expect(kept.contains { $0.hasSuffix("-rootbase") } && kept.contains { $0.contains("-rootfs-") })
        #expect(try imagec.run("build", "--json", "systems/built1.swift").standardOutput.contains("\"image\": true"))

        // A root size too small for the packages: both sizes, at the line that declares it.
        let before = try entries(store.root)
        try Self.definition.replacingOccurrences(of: "Disk(rootSize: .gibibytes(2), minimumRootSize: .gibibytes(1))",
                                                 with: "Disk(rootSize: .mebibytes(300), minimumRootSize: .mebibytes(200))")
            .write(to: file, atomically: true, encoding: .utf8)
        let tooSmall = try imagec.run("build", "systems/built1.swift")
        #expect(tooSmall.status == 1)
        #expect(tooSmall.standardError.contains("systems/built1.swift:12: error: the root file system needs about "), "\(tooSmall.standardError)")
        #expect(tooSmall.standardError.contains(" but the root size is 300 MiB"))
        #expect(try entries(store.root) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root.path).filter { $0.hasPrefix(".tmp-") } == [])
    }
}

enum ImageBuilderTestSupport {
    static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        try process.start()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(executable) \(arguments) failed")
    }

    /// The standard output of a command (and its standard error, unless told not to).
    static func output(_ executable: String, _ arguments: [String], standardError: Bool = true) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = standardError ? output : FileHandle.nullDevice
        try process.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
