import Foundation
@testable import ImagecCore
import ImageDSL
@testable import Packages
@testable import SwapLedger
import Testing

/// Each exit status of the README's table, through the command line, on the cheapest path
/// that ends with it (the statuses 1 and 2 of definitions and arguments are in
/// `CommandLineTests` too).
struct ExitStatusTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-exit-\(UUID().uuidString.prefix(8))")

    /// test001 deployed to a local pool in the test's folder, on a libvirt domain that does
    /// not exist; its lock beside it.
    func definition() throws -> String {
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("systems"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: DeployTests.repository.appendingPathComponent("templates"), to: folder.appendingPathComponent("templates"))
        let original = DeployTests.repository.appendingPathComponent("systems/test001.swift")
        let file = folder.appendingPathComponent("systems/test001.swift")
        try String(contentsOf: original, encoding: .utf8).replacingOccurrences(of: "    HostName(\"test001\")\n", with: """
                HostName("test001")
                Deployment(to: .local("\(folder.path)/pool"), disk: "test001-root", machine: .libvirt("imagec-no-such-domain"), ssh: "127.0.0.1:1")

            """).write(to: file, atomically: true, encoding: .utf8)
        // Only read: nothing is fetched or built before the refusal.
        try FileManager.default.copyItem(at: PackageLock.url(for: original), to: PackageLock.url(for: file))
        return "systems/test001.swift"
    }

    /// A swap of test001 in the test's ledger, left at `step` by a process that died.
    func unfinishedSwap(kind: SwapKind, at step: SwapStep) throws {
        let ledger = try Ledger(path: folder.appendingPathComponent("ledger.sqlite"))
        let record = try ledger.begin(SwapRecord(
            kind: kind, host: "test001", target: Deployment(to: .local("\(folder.path)/pool"), disk: "test001-root",
                                                           machine: .libvirt("imagec-no-such-domain")),
            machine: "libvirt:qemu:///system imagec-no-such-domain", pool: "local:\(folder.path)/pool", checks: [], ssh: "127.0.0.1:1",
            incoming: "test001-root_d1", outgoing: "test001-root_d2", digest: "sha256:1", previousDigest: "sha256:2", commit: "abc",
            forced: false))
        try ledger.done(.prepare, of: record.id!)
        try ledger.intend(step, of: record.id!)
    }

    @Test func everyExitStatus() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = try definition()

        // 0: nothing deployed yet.
        let empty = try DeployTests.imagec(["status"], in: folder)
        #expect(empty.status == 0, "\(empty.output)")
        // 1: a system imagec deploy cannot place.
        try "import ImageDSL\nlet system = OperatingSystem { HostName(\"nowhere1\") }\n"
            .write(to: folder.appendingPathComponent("systems/nowhere1.swift"), atomically: true, encoding: .utf8)
        let nowhere = try DeployTests.imagec(["deploy", "--dry-run", "systems/nowhere1.swift"], in: folder)
        #expect(nowhere.status == 1 && nowhere.output.contains("systems/nowhere1.swift:2: error: system 'nowhere1' has no Deployment"),
                "\(nowhere.output)")
        // 2: a firmware imagec test does not know, before anything is built.
        let firmware = try DeployTests.imagec(["test", "--firmware", "efi", file], in: folder)
        #expect(firmware.status == 2 && firmware.output.contains("error: --firmware must be bios or uefi, not 'efi'"), "\(firmware.output)")
        // 3: a ledger that cannot be opened.
        let ledger = try DeployTests.imagec(["status"], in: folder, environment: ["IMAGEC_LEDGER": "/proc/imagec/ledger.sqlite"])
        #expect(ledger.status == 3 && ledger.output.contains("error: cannot open the deployment ledger /proc/imagec/ledger.sqlite"),
                "\(ledger.output)")
        // 5: a deploy over a swap that never finished, refused before anything is fetched.
        try unfinishedSwap(kind: .rollback, at: .check)
        let refused = try DeployTests.imagec(["deploy", file], in: folder)
        #expect(refused.status == 5 && refused.output.contains("error: swap 1 of test001 never finished (at step check)"), "\(refused.output)")
        // 4: that rollback, resumed at its checks: the host never answers.
        // Its progress as JSON lines, one event each.
        let resumed = try DeployTests.imagec(["deploy", "--resume", "--boot-timeout", "1", "--progress", "json"], in: folder)
        #expect(resumed.status == 4 && resumed.output.contains("SSH at 127.0.0.1:1 did not answer within 1 s"), "\(resumed.output)")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let events = try resumed.output.split(separator: "\n").filter { $0.hasPrefix("{") }
            .map { try decoder.decode(ProgressEvent.self, from: Data($0.utf8)) }
        #expect(events.contains { $0.kind == .message("resuming swap 1 of test001 at step check") }, "\(resumed.output)")
        #expect(try Ledger(path: folder.appendingPathComponent("ledger.sqlite")).unfinished().isEmpty)
        // And the help says so.
        let help = try DeployTests.imagec(["--help"], in: folder)
        for status in FailureKind.allCases {
            #expect(help.output.contains("\(status.rawValue) when") || help.output.contains("\(status.rawValue) for"), "\(status)")
        }
    }
}
