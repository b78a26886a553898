import Builder
import Foundation
import ImageDSL
import Testing

/// `imagec build` end to end: a real package layer, a real disk, booted under SeaBIOS and OVMF.
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

    /// Reads a file of the image's root file system without mounting it.
    func read(_ path: String, in image: URL) throws -> String {
        let offset = 135_168 * 512
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/debugfs")
        process.arguments = ["-R", "cat \(path)", "\(image.path)?offset=\(offset)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func buildBootAndRebuild() throws {
        let root = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }  // gigabytes of images and layers
        let file = root.appendingPathComponent("systems/built1.swift")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Self.definition.write(to: file, atomically: true, encoding: .utf8)
        let store = Store(root: root.appendingPathComponent("store"))
        let builder = ImageBuilder(store: store)

        let evaluation = try Support.evaluator().evaluate(file.path)
        let (lock, lockFile) = try Locker().lock(evaluation)
        let first = try builder.build(evaluation.systems[0], lock: lock, lockFile: lockFile)
        #expect(!first.reused && !first.packageLayerReused)
        #expect(first.entry.lastPathComponent == "\(first.digest)-built1")
        let entryFiles = try FileManager.default.contentsOfDirectory(atPath: first.entry.path).sorted()
        #expect(entryFiles == ["build.log", "disk.raw", "disk.raw.sha256", "inputs", "lock.json", "system.json"])
        let sha = try String(contentsOf: first.entry.appendingPathComponent("disk.raw.sha256"), encoding: .utf8)

        // The configuration is in the image.
        #expect(try read("/etc/hostname", in: first.image) == "built1\n")
        #expect(try read("/etc/motd", in: first.image) == "MOTD-ONE\n")
        #expect(try read("/etc/passwd", in: first.image).contains("\nalice:x:2001:2001::/home/alice:/bin/bash\n"))
        #expect(try read("/etc/group", in: first.image).contains(":alice"))
        #expect(try read("/etc/ssh/authorized_keys/alice", in: first.image).hasPrefix("ssh-ed25519 "))
        #expect(try read("/etc/machine-id", in: first.image) == "")
        #expect(try read("/etc/ssh/ssh_host_ed25519_key.pub", in: first.image) == "")

        // It boots, under both firmwares, to the login prompt of its host name. Under UEFI it
        // boots from a 6 GiB disk (an overlay of the image): the root file system grows into it.
        let larger = root.appendingPathComponent("larger.qcow2")
        try ImageBuilderTestSupport.run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", "-b", first.image.path, "-F", "raw", larger.path, "6G"])
        for firmware in BootProbe.Firmware.allCases {
            let outcome = firmware == .bios
                ? try BootProbe.boot(first.image, firmware: firmware, until: "built1 login:")
                : try BootProbe.boot(larger, format: "qcow2", firmware: firmware, until: "built1 login:")
            #expect(outcome.reached, "no login prompt under \(firmware) after \(Int(outcome.seconds)) s:\n\(outcome.console)")
            #expect(!outcome.console.contains("FAILED"), "a unit failed under \(firmware):\n\(outcome.console)")
            if firmware == .uefi {
                #expect(outcome.console.contains("EXT4-fs (vda3): resized filesystem to"), "the root file system did not grow")
            }
        }
        // Booting did not change the store's image.
        #expect(try "\(ImageBuilderTestSupport.sha256(first.image))  disk.raw\n" == sha)

        // Same inputs: the entry is found at once.
        #expect(try builder.build(evaluation.systems[0], lock: lock, lockFile: lockFile).reused)

        // Built again from the same package layer: the same bytes.
        try store.remove(first.entry.lastPathComponent)
        let again = try builder.build(evaluation.systems[0], lock: lock, lockFile: lockFile)
        #expect(again.packageLayerReused && !again.reused)
        #expect(try String(contentsOf: again.entry.appendingPathComponent("disk.raw.sha256"), encoding: .utf8) == sha)

        // One configuration value changed: the package layer is reused, the image differs.
        try Self.definition.replacingOccurrences(of: "MOTD-ONE", with: "MOTD-TWO").write(to: file, atomically: true, encoding: .utf8)
        let changed = try Support.evaluator().evaluate(file.path)
        let second = try builder.build(changed.systems[0], lock: lock, lockFile: lockFile)
        #expect(second.packageLayerReused && second.digest != first.digest)
        #expect(try read("/etc/motd", in: second.image) == "MOTD-TWO\n")
    }
}

enum ImageBuilderTestSupport {
    static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        try process.run()
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
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static func sha256(_ file: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [file.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix(64))
    }
}
