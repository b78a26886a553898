import ArgumentParser
import BootTest
import Foundation
import ImagecCore
import ImageDSL

/// `imagec test`: boot each system's exact store image and run its checks.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Boot the exact image in the store and run the system's checks in it.",
        discussion: """
            Builds the image if needed, boots it in QEMU on a throw-away overlay with each \
            firmware the system targets (KVM when it works, TCG otherwise; $IMAGEC_ACCEL=kvm|tcg \
            decides), reaches it over SSH with a throw-away key and runs the checks its \
            definition, its templates and its services declare. The result, with the whole \
            console log, is recorded against the digest in the store (see `imagec show --status`). \
            Exit status 0 only if every check passed with every firmware; 4 when a check failed \
            or the guest did not boot.
            """)

    @Argument(help: "The system definition file, such as systems/test001.swift.")
    var file: String

    @Option(name: .long, help: "Test only the system with this host name.")
    var system: String?

    @Option(name: .long, help: "Test only with this firmware: bios or uefi.")
    var firmware: [String] = []

    @Option(name: .long, help: "Seconds for the guest to answer over SSH (default 120 with KVM, 300 with TCG).")
    var bootTimeout: Double?

    @Flag(name: .long, help: "Leave the (last) virtual machine running and print how to reach it.")
    var keepRunning = false

    @OptionGroup var output: ProgressOptions

    @Flag(name: .long, help: "Print the test records as JSON.")
    var json = false

    func validate() throws {
        for name in firmware where name != "bios" && name != "uefi" {
            throw ValidationError("--firmware must be bios or uefi, not '\(name)'")
        }
        if let bootTimeout, bootTimeout <= 0 { throw ValidationError("--boot-timeout must be positive") }
    }

    func run() throws {
        let progress = output.context.progress
        let definition = try output.context.definition(file, system: system)
        let tester = ImageTester(store: definition.builder.store)
        let options = ImageTester.Options(firmwares: firmware.isEmpty ? nil : firmware, keepRunning: keepRunning, bootTimeout: bootTimeout)
        var records: [TestRecord] = []
        for system in definition.systems {
            let result = try definition.build(system, progress: progress)
            progress("testing \(system.model.hostName) (\(result.entry.name))")
            records += try tester.test(result, model: system.model, options: options, progress: progress)
        }
        if json {
            FileHandle.standardOutput.write(try CanonicalJSON.encode(value: records))
        } else {
            for record in records {
                Swift.print("\(record.passed ? "passed" : "FAILED") \(record.hostName) \(record.firmware) \(record.accelerator) "
                    + "boot \(record.bootSeconds.map { "\($0) s" } ?? "-") total \(record.seconds) s")
            }
        }
        if records.contains(where: { !$0.passed }) { throw ChecksFailed() }
    }
}
