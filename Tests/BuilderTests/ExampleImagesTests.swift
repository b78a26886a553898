import Foundation
import ImageBuild
import ImagecCore
import ImageDSL
import Packages
import Testing

/// Every example system builds; bigmem2, the main job, twice from scratch (two stores that
/// share only the .deb files) to the same bytes, and its image boots under SeaBIOS and OVMF and holds what its
/// definition says. One example per test case, so that cases run side by side.
struct ExampleImagesTests {
    static let examples = ["bigmem2", "data001", "test001", "workers"]

    @Test func theExamplesAreTheseFour() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Support.repository.appendingPathComponent("systems").path)
            .filter { $0.hasSuffix(".swift") }.sorted()
        #expect(files == Self.examples.map { "\($0).swift" })
    }

    @Test(arguments: examples)
    func builds(example: String) throws {
        let root = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }  // gigabytes of layers and images
        // A copy of the definitions, locked afresh against the host's apt sources.
        for folder in ["systems", "templates"] {
            try FileManager.default.copyItem(at: Support.repository.appendingPathComponent(folder), to: root.appendingPathComponent(folder))
        }
        let first = try Support.store(root.appendingPathComponent("first"))
        let second = try Support.store(root.appendingPathComponent("second"))
        let file = root.appendingPathComponent("systems/\(example).swift")
        try? FileManager.default.removeItem(at: PackageLock.url(for: file))
        let evaluation = try Support.evaluator().evaluate(file.path)
        let (lock, lockFile, _) = try Locker().lock(evaluation)
        // workers.swift declares ten systems that differ only in host name and address:
        // the first and the last stand for them, to keep the suite's time in bounds.
        let systems = evaluation.systems.count > 2 ? [evaluation.systems.first!, evaluation.systems.last!] : evaluation.systems
        for system in systems {
            let one = try ImageBuilder(store: first).build(system, lock: lock, lockFile: lockFile)
            #expect(!one.reused && FileManager.default.fileExists(atPath: one.image.path))
            // The main job is built twice from scratch: the recipe is the same for every example,
            // and each cold build costs a minute or more of the suite's two cores.
            guard system.model.hostName == "bigmem2" else { continue }
            let two = try ImageBuilder(store: second).build(system, lock: lock, lockFile: lockFile)
            #expect(!two.reused && one.digest == two.digest)
            let sums = try [one, two].map { try String(contentsOf: $0.entry.checksumFile, encoding: .utf8) }
            #expect(sums[0] == sums[1], "\(system.model.hostName): two builds gave different images")
            try Self.empty(second)  // not needed any more: only one store's gigabytes while booting
            try checkAndBoot(system.model, image: one.image, scratch: root)
        }
    }

    /// bigmem2's image holds what its definition says, boots under both firmwares and, under
    /// UEFI from a 16 GiB disk, grows its root file system.
    func checkAndBoot(_ model: SystemModel, image: URL, scratch: URL) throws {
        let disk = try DiskReader(image)
        #expect(try disk.read("/etc/hostname") == "bigmem2\n")
        let passwd = try disk.read("/etc/passwd")
        for user in model.users { #expect(passwd.contains("\n\(user.name):x:"), "user \(user.name) is missing") }
        for file in model.files { #expect(try disk.read(file.path) == file.contents, "\(file.path) differs") }
        #expect(try disk.read("/etc/ssh/ssh_host_ed25519_key") == "")

        let larger = scratch.appendingPathComponent("larger.qcow2")
        try ImageBuilderTestSupport.run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", "-b", image.path, "-F", "raw", larger.path, "16G"])
        defer { try? FileManager.default.removeItem(at: larger) }
        for firmware in BootProbe.Firmware.allCases {
            let outcome = firmware == .bios
                ? try BootProbe.boot(image, firmware: firmware, until: "bigmem2 login:")
                : try BootProbe.boot(larger, format: "qcow2", firmware: firmware, until: "bigmem2 login:")
            #expect(outcome.reached, "no login prompt under \(firmware) after \(Int(outcome.seconds)) s:\n\(outcome.console)")
            #expect(!outcome.console.contains("FAILED"), "a unit failed under \(firmware):\n\(outcome.console)")
            if firmware == .uefi {
                #expect(outcome.console.contains("resized filesystem to"), "the root file system did not grow")
            }
        }
    }

    /// Removes every entry of a test store but its shared .deb cache.
    static func empty(_ store: Store) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: store.root.path) where name != "debs" {
            try FileManager.default.removeItem(at: store.root.appendingPathComponent(name))
        }
    }
}

/// Reads files of an image's root file system without mounting it (debugfs at the root
/// partition's offset).
struct DiskReader {
    let device: String

    init(_ image: URL) throws {
        let table = try ImageBuilderTestSupport.output("/usr/sbin/sfdisk", ["--json", image.path])
        let json = try JSONSerialization.jsonObject(with: Data(table.utf8)) as? [String: Any]
        let partitions = (json?["partitiontable"] as? [String: Any])?["partitions"] as? [[String: Any]] ?? []
        let start = try #require(partitions.first { $0["name"] as? String == "root" }?["start"] as? Int, "\(image.path) has no root partition")
        device = "\(image.path)?offset=\(start * 512)"
    }

    func read(_ path: String) throws -> String { try debugfs("cat \(path)") }

    /// The output of one debugfs request, such as `stat /etc/localtime`.
    func debugfs(_ request: String) throws -> String {
        try ImageBuilderTestSupport.output("/usr/sbin/debugfs", ["-R", request, device], standardError: false)
    }
}
