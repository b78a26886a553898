import DefinitionEvaluation
import Foundation
import ImagecCore
import Testing

/// The `imagec` program as users run it: output, exit codes and help.
struct CommandLineTests {
    struct Run {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// Runs the `imagec` built beside the test runner, from the repository root.
    func imagec(_ arguments: String..., cache: URL? = nil) throws -> Run {
        try imagec(arguments, cache: cache)
    }

    func imagec(_ arguments: [String], cache: URL? = nil, environment extra: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = DSLToolchain.currentExecutable.deletingLastPathComponent().appendingPathComponent("imagec")
        process.arguments = arguments
        process.currentDirectoryURL = Support.repository
        var environment = ProcessInfo.processInfo.environment
        environment["IMAGEC_CACHE_DIR"] = (try cache ?? Support.temporaryDirectory()).path
        environment.merge(extra) { $1 }
        process.environment = environment
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            standardOutput: String(decoding: outputData, as: UTF8.self),
            standardError: String(decoding: errorData, as: UTF8.self))
    }

    @Test func showPrintsASummaryWithTheDigest() throws {
        let run = try imagec("show", "systems/bigmem2.swift")
        #expect(run.status == 0)
        let golden = try Data(contentsOf: Support.resources.appendingPathComponent("Golden/bigmem2.json"))
        #expect(run.standardOutput.hasPrefix("bigmem2  (systems/bigmem2.swift:4)\n  digest       sha256:\(CanonicalJSON.sha256(golden))\n"))
        #expect(run.standardOutput.contains(
            "  disk         root 8 GiB ext4 in slots A and B; scratch 2 GiB ext4 on /scratch; persistent home 4 TiB xfs on /home (own disk)\n"))
        // The chain of templates, and the packages each adds.
        // (Bigmem's root slots need kexec-tools, fdisk and python3 for the in-place deploy.)
        #expect(run.standardOutput.contains("  templates    templates/Lab.swift:38: 18 packages; templates/Bigmem.swift:7: +build-essential +fdisk "
            + "+htop +kexec-tools +netbase +nftables +python3 +tmux +xfsprogs; systems/bigmem2.swift:4: +bwa +r-base-core +samtools\n"),
                "\(run.standardOutput)")
        #expect(run.standardOutput.hasSuffix("  deployment   bare metal, BMC https://bigmem2-bmc.lab.example (Redfish, system System.Embedded.1), "
            + "boots from b8:ca:3a:6e:12:40, root disk serial S4EWNX0R123456\n"))
    }

    /// Evaluating loads none of the deploying C libraries: their initialisers would double
    /// the time of a warm `imagec show`. The dynamic loader lists what it loads.
    @Test func showLoadsNoDeployingLibrary() throws {
        let run = try imagec(["show", "systems/test001.swift"], environment: ["LD_DEBUG": "files"])
        #expect(run.status == 0 && run.standardError.contains("libFoundation.so"), "\(run.standardError.suffix(2000))")
        for library in ["librados.so", "librbd.so", "libvirt.so", "libguestfs.so"] {
            #expect(!run.standardError.contains(library), "imagec show loaded \(library)")
        }
    }

    @Test func jsonIsTheCanonicalModelWithAndWithoutTheCache() throws {
        let cache = try Support.temporaryDirectory()
        let golden = try String(contentsOf: Support.resources.appendingPathComponent("Golden/bigmem2.json"), encoding: .utf8)
        let cold = try imagec("show", "--json", "systems/bigmem2.swift", cache: cache)
        let warm = try imagec("show", "--json", "systems/bigmem2.swift", cache: cache)
        let uncached = try imagec("show", "--json", "--no-cache", "systems/bigmem2.swift", cache: cache)
        #expect([cold.status, warm.status, uncached.status] == [0, 0, 0])
        #expect(cold.standardOutput == golden)
        #expect(warm.standardOutput == golden)
        #expect(uncached.standardOutput == golden)
    }

    @Test func oneSystemOfAFileThatDeclaresSeveral() throws {
        let run = try imagec("show", "--json", "--system", "slurmd-worker-007", "systems/workers.swift")
        #expect(run.status == 0)
        #expect(run.standardOutput.contains("\n  \"hostName\": \"slurmd-worker-007\",\n"))
        let unknown = try imagec("show", "--system", "nope", "systems/workers.swift")
        #expect(unknown.status == 2)
        #expect(unknown.standardError.hasPrefix("error: systems/workers.swift declares no system named 'nope' (it declares: slurmd-worker-001,"))
    }

    @Test func anInvalidDefinitionExitsWithOne() throws {
        let run = try imagec("show", "Tests/BuilderTests/Invalid/several-errors-at-once.swift")
        #expect(run.status == 1)
        #expect(run.standardOutput == "")
        #expect(run.standardError == """
            Tests/BuilderTests/Invalid/several-errors-at-once.swift:5: error: 'Samtools' is not a valid Debian package name (lowercase letters, digits, '+', '-' and '.')
            Tests/BuilderTests/Invalid/several-errors-at-once.swift:6: error: file path 'motd' is not an absolute path to a file
            Tests/BuilderTests/Invalid/several-errors-at-once.swift:7: error: '10.0.0.1/40' on interface 'eno1' is not an address with a prefix length (such as 10.8.0.42/16)

            """)
    }

    @Test func aCompileErrorIsShownInTheCompilersFormat() throws {
        let run = try imagec("show", "Tests/BuilderTests/Invalid/compile-error.swift")
        #expect(run.status == 1)
        #expect(run.standardError.hasPrefix(
            "Tests/BuilderTests/Invalid/compile-error.swift:4:5: error: cannot find 'HostNam' in scope\n"))
        #expect(run.standardError.hasSuffix("error: the definition does not compile (1 error)\n"))
    }

    @Test func usageErrorsExitWithTwo() throws {
        let missing = try imagec("show", "systems/nope.swift")
        #expect(missing.status == 2)
        #expect(missing.standardError == "error: systems/nope.swift: no such file\n")
        let badOption = try imagec("show", "--frobnicate", "systems/bigmem2.swift")
        #expect(badOption.status == 2)
        #expect(badOption.standardError.contains("Unknown option '--frobnicate'"))
        let noCommand = try imagec("frobnicate")
        #expect(noCommand.status == 2)
        // Several definitions: --system picks from one only; at least one job.
        let systemOfMany = try imagec("build", "--system", "test001", "systems/test001.swift", "systems/data001.swift")
        #expect(systemOfMany.status == 2 && systemOfMany.standardError.contains("--system goes with a single definition file"), "\(systemOfMany)")
        let noJobs = try imagec("build", "--jobs", "0", "systems/test001.swift")
        #expect(noJobs.status == 2 && noJobs.standardError.contains("--jobs must be 1 or more"), "\(noJobs)")
        // What was expected instead, said.
        let folder = try imagec("show", "systems")
        #expect(folder.status == 2 && folder.standardError.hasPrefix("error: systems is a folder: give a definition file"), "\(folder)")
        // Refused by its name alone: no lock is read (none need exist).
        let lock = try imagec("show", "drafts/bigmem9.lock")
        #expect(lock.status == 2 && lock.standardError == "error: drafts/bigmem9.lock is a package lock: give the definition it locks, bigmem9.swift\n", "\(lock)")
        let capitals = try imagec("affected", "--package", "OpenSSH-Server")
        #expect(capitals.status == 2 && capitals.standardError.contains("did you mean 'openssh-server'?"), "\(capitals)")
        let keyType = try imagec("known-hosts", "--type", "dsa", "systems/test001.swift")
        #expect(keyType.status == 2 && keyType.standardError.contains("'dsa' is not a host key type: give ed25519, ecdsa or rsa"), "\(keyType)")
        let timeout = try imagec(["show", "systems/bigmem2.swift"], environment: ["IMAGEC_EVALUATION_TIMEOUT": "120s"])
        #expect(timeout.status == 2 && timeout.standardError.contains("IMAGEC_EVALUATION_TIMEOUT is '120s': set it to a number of seconds"), "\(timeout)")
    }

    /// `imagec check` over a folder: the examples pass; in a copy where test002 was made from
    /// test001, the shared address and deployment disk are errors naming both files and lines.
    @Test func checkFindsClashesAcrossTheFleet() throws {
        let examples = try imagec("check", "systems")
        #expect(examples.status == 0 && examples.standardOutput.hasSuffix(" in 5 files: no problem found\n"), "\(examples)")

        let copy = try Support.temporaryDirectory()
        try FileManager.default.copyItem(at: Support.repository.appendingPathComponent("templates"), to: copy.appendingPathComponent("templates"))
        try FileManager.default.createDirectory(at: copy.appendingPathComponent("systems"), withIntermediateDirectories: true)
        let test001 = try String(contentsOf: Support.repository.appendingPathComponent("systems/test001.swift"), encoding: .utf8)
        for host in ["test001", "test002"] {
            try test001.replacingOccurrences(of: "    HostName(\"test001\")\n", with: """
                    HostName("\(host)")
                    Deployment(to: .rbd("vm"), disk: "test-root", machine: .libvirt("\(host)"))

                """).write(to: copy.appendingPathComponent("systems/\(host).swift"), atomically: true, encoding: .utf8)
        }
        let systems = copy.appendingPathComponent("systems").path
        let clash = try imagec("check", systems)
        #expect(clash.status == 1 && clash.standardOutput == "2 systems in 2 files: 2 errors\n", "\(clash)")
        #expect(clash.standardError == """
            \(systems)/test002.swift:4: error: address 10.50.103.201 of system 'test002' is already system 'test001's (at \(systems)/test001.swift:4)
            \(systems)/test002.swift:6: error: system 'test002' is deployed to disk 'test-root' of RBD pool 'vm' (/etc/ceph/ceph.conf), \
            as system 'test001' is (at \(systems)/test001.swift:6): one would overwrite the other

            """, "\(clash.standardError)")
        let json = try imagec("check", "--json", systems)
        let summary = try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any]
        #expect(json.status == 1 && summary?["errors"] as? Int == 2 && (summary?["systems"] as? [Any])?.count == 2, "\(json)")
        #expect(try imagec("check", copy.appendingPathComponent("nothing").path).status == 2)
    }

    @Test func everyCommandHasHelp() throws {
        for arguments in [["--help"], ["show", "--help"], ["help", "show"]] {
            let process = try imagec(arguments)
            #expect(process.status == 0, "\(arguments)")
            #expect(process.standardOutput.contains("USAGE: imagec"), "\(arguments)")
        }
    }
}

/// An installed imagec finds its library in PREFIX/lib/imagec, away from the build folder.
struct InstallationTests {
    @Test func installedImagecEvaluatesDefinitions() throws {
        let prefix = try Support.temporaryDirectory()
        let buildFolder = DSLToolchain.currentExecutable.deletingLastPathComponent()
        let install = Process()
        install.executableURL = Support.repository.appendingPathComponent("scripts/install")
        install.arguments = ["--prefix", prefix.path, "--from", buildFolder.path]
        install.standardOutput = FileHandle.nullDevice
        try install.start()
        install.waitUntilExit()
        #expect(install.terminationStatus == 0)

        let show = Process()
        show.executableURL = prefix.appendingPathComponent("bin/imagec")
        show.arguments = ["show", "--json", "--no-cache", "systems/test001.swift"]
        show.currentDirectoryURL = Support.repository
        var environment = ProcessInfo.processInfo.environment
        environment["IMAGEC_CACHE_DIR"] = prefix.appendingPathComponent("cache").path
        show.environment = environment
        let output = Pipe()
        show.standardOutput = output
        try show.start()
        let json = output.fileHandleForReading.readDataToEndOfFile()
        show.waitUntilExit()
        #expect(show.terminationStatus == 0)
        #expect(json == (try Data(contentsOf: Support.resources.appendingPathComponent("Golden/test001.json"))))
    }
}

/// Ctrl-C during an evaluation leaves no process and no temporary folder behind.
struct InterruptionTests {
    @Test(arguments: ["swiftc", "bwrap"])
    func interruptedEvaluationCleansUp(during step: String) throws {
        let root = try Support.temporaryDirectory()
        let scratch = root.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let definition = root.appendingPathComponent("spin.swift")
        try "import ImageDSL\nvar n = 0\nwhile n >= 0 { n &+= 1 }\nlet system = OperatingSystem { HostName(\"h\") }\n"
            .write(to: definition, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = DSLToolchain.currentExecutable.deletingLastPathComponent().appendingPathComponent("imagec")
        process.arguments = ["show", "--no-cache", definition.path]
        var environment = ProcessInfo.processInfo.environment
        environment["TMPDIR"] = scratch.path
        environment["IMAGEC_CACHE_DIR"] = root.appendingPathComponent("cache").path
        process.environment = environment
        process.standardError = FileHandle.nullDevice
        try process.start()

        // Wait until the step runs (the compiler, or the compiled definition), then interrupt.
        func stepIsRunning() -> Bool {
            runningProcesses().contains { $0.hasPrefix("/") && $0.contains(step) && $0.contains(scratch.path) }
        }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !stepIsRunning() { Thread.sleep(forTimeInterval: 0.02) }
        #expect(stepIsRunning())
        kill(process.processIdentifier, SIGINT)
        let exitDeadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < exitDeadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!process.isRunning, "imagec did not exit after SIGINT")
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()

        #expect(process.terminationStatus == 128 + SIGINT)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == [])
        // The sandbox's process dies with bwrap (PR_SET_PDEATHSIG), a moment later on a busy machine.
        let goneDeadline = Date().addingTimeInterval(10)
        while Date() < goneDeadline, runningProcesses().contains(where: { $0.contains(scratch.path) }) { Thread.sleep(forTimeInterval: 0.1) }
        #expect(!runningProcesses().contains { $0.contains(scratch.path) })
    }

    /// The command lines of the running processes, arguments separated by spaces.
    private func runningProcesses() -> [String] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc").filter { Int($0) != nil }) ?? []
        return pids.compactMap { pid in
            (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?
                .split(separator: "\0").joined(separator: " ")
        }
    }
}
