import BMC
import BootServer
import Foundation
import ImagecCore
import ImageDSL
import SwapLedger

/// A physical machine reinstalled onto the root slot it does not run. In place, when its running
/// system answers over SSH: imagec's agent runs there, reaching the boot routes through the SSH
/// connection (``LocalBootServer``), writes the slot (only the blocks that differ), the host's
/// identity, arms the trial and the watchdog, and has systemd kexec into it: no firmware, no BMC.
/// Otherwise through the network: `imagec serve` is given the image and the installer; the BMC
/// boots the machine from the network once and power-cycles it; the installer does the same
/// writes and kexecs; the BMC is told to boot from the disk again. Once the checks pass, the slot
/// becomes the default over SSH. Until then the previous slot is one kexec or power cycle away:
/// that is the rollback, and the boot loader does it alone if the new system panics, hangs (the
/// watchdog resets it) or is never blessed (`imagec-trial.service` reboots it).
///
/// The machine's partitions other than its slots, and its other disks, are never written.
public struct BareMetalTarget: DeployTarget {
    public var host: String
    public var machine: BareMetal
    public var controller: any BaseboardController
    /// Where `imagec serve` reads its deploys.
    public var bootState: BootState
    /// The host's identity as the installer receives it, made again for each installer run
    /// (the installer takes it once).
    public var identity: @Sendable () throws -> Data
    /// Seconds from the power cycle to the installer's first report (a server's POST, iPXE,
    /// the installer's boot).
    public var installerTimeout: Double
    /// Seconds the installer may go without reporting.
    public var stallTimeout: Double
    /// Seconds between two looks at the installer's reports.
    public var pollInterval: Double = 2
    /// Seconds between two looks at the machine's power while the installer runs; off for
    /// longer than one and a half of these is a failure.
    public var powerCheckInterval: Double = 10
    /// How the slot is written: in place when the running system answers, else through the network.
    public var via: Via = .automatic
    /// Seconds the hardware watchdog gives a kexec and the trial boot after it, before it resets
    /// the machine (which then boots its default slot).
    public var watchdogTimeout = 300
    public var progress: ProgressReporter

    /// How a deploy reaches the slot it writes.
    public enum Via: String, CaseIterable, Sendable {
        /// In place when the running system answers over SSH with its stable key, else the network.
        case automatic
        /// The running system writes the slot it does not run and kexecs into it: no firmware, no BMC.
        case inPlace = "in-place"
        /// The BMC power-cycles the machine into the network installer.
        case network
    }

    /// The running system writes its other slot (imagec's agent, over SSH) and kexecs into it.
    public static let inPlace = SwapStep("in-place")
    /// The machine boots from the network once, and is power-cycled.
    public static let networkBoot = SwapStep("network-boot")
    /// The installer writes the slot and boots it.
    public static let install = SwapStep("install")
    /// The machine boots from its disk again, from now on.
    public static let diskBoot = SwapStep("disk-boot")
    /// A rollback: the running system makes its other slot the trial, and reboots.
    public static let switchSlot = SwapStep("switch-slot")

    public init(host: String, machine: BareMetal, controller: any BaseboardController, bootState: BootState,
                identity: @escaping @Sendable () throws -> Data, installerTimeout: Double = 900, stallTimeout: Double = 300,
                progress: ProgressReporter = .silent) {
        self.host = host
        self.machine = machine
        self.controller = controller
        self.bootState = bootState
        self.identity = identity
        self.installerTimeout = installerTimeout
        self.stallTimeout = stallTimeout
        self.progress = progress
    }

    public var description: String { "bare metal \(host) (\(controller.description))" }
    public var store: String { "imagec serve's state \(bootState.directory.path)" }
    public var disk: String { "the root slots of the disk with \(machine.rootDisk.description)" }
    public var steps: [SwapStep] { [Self.inPlace, Self.networkBoot, Self.install, Self.diskBoot] }
    private static let networkSteps = [networkBoot, install, diskBoot]

    private var mac: String { BareMetal.normalized(mac: machine.bootMAC) ?? machine.bootMAC }

    /// The BMC answers (a wrong password or address is said here, before anything changes).
    public func checkReady() throws {
        _ = try controller.powerState()
    }

    public func installed() throws -> InstalledImage? {
        let slots = try bootState.slots(of: host)
        guard let slot = slots.defaultSlot, let content = slots[slot] else { return nil }
        return InstalledImage(name: "slot \(slot)", digest: content.digest, swap: content.swap)
    }

    public func generations() throws -> [InstalledImage] {
        let slots = try bootState.slots(of: host)
        guard let slot = slots.defaultSlot, let content = slots[HostSlots.other(slot)] else { return [] }
        return [InstalledImage(name: "slot \(HostSlots.other(slot))", digest: content.digest, swap: content.swap)]
    }

    public func names(replacing installed: InstalledImage?) -> (incoming: String, outgoing: String) {
        let slots = (try? bootState.slots(of: host)) ?? HostSlots()
        return ("slot \(slots.inactive)", slots.defaultSlot.map { "slot \($0)" } ?? "none")
    }

    public func plan(replacing installed: InstalledImage?) -> [String] {
        let (incoming, outgoing) = names(replacing: installed)
        var plan = ["record the deploy (image, identity) in imagec serve's state \(bootState.directory.path)"]
        if via != .network {
            plan.append("in place\(via == .automatic ? " if \(host) answers over SSH" : ""): its running system writes \(incoming) of the disk with "
                + "\(machine.rootDisk.description) (only the blocks that differ), the host's identity, and kexecs into it on trial"
                + (via == .automatic ? "; otherwise:" : ""))
        }
        if via != .inPlace {
            plan += [
                "through \(controller.description): boot from the network once (MAC \(mac)) and power-cycle",
                "the installer writes \(incoming) (only the blocks that differ), the host's identity, and kexecs into it on trial",
                "boot from the disk again",
            ]
        }
        plan.append("once the checks pass, \(incoming) is the default" + (outgoing == "none" ? "" : "; if they fail, back to \(outgoing)"))
        return plan
    }

    /// Records the deploy for `imagec serve`, not yet pending: the machine is not touched.
    public func prepare(_ image: ReadyImage, swap: Int64) throws {
        guard let installer = image.installer else {
            throw DeployError("\(host) is a bare-metal machine: its deploy needs the network installer (imagec deploy --installer FILE)")
        }
        let entry = ImageEntry(folder: image.file.deletingLastPathComponent())
        guard try entry.slotImage() != nil else {
            throw DeployError("\(entry.folder.path) has no \(entry.slotImageFile.lastPathComponent): \(host)'s image has no root slots (Disk(rootSlots: .ab))")
        }
        for file in [installer.kernel, installer.initramfs] where !FileManager.default.fileExists(atPath: file) {
            throw DeployError("the installer's \(file) is missing")
        }
        let deploy = PendingDeploy(token: PendingDeploy.makeToken(), host: host, mac: mac, swap: String(swap), entry: entry.folder.path,
                                   installer: installer, rootDisk: machine.rootDisk)
        try bootState.prepare(deploy, identity: try identity())
        progress("\(host)'s deploy is ready in imagec serve's state; the installer will write \(names(replacing: nil).incoming)")
    }

    public func install(_ record: SwapRecord, journal: StepJournal, system: any HostAccess) throws {
        if record.kind == .rollback { return try switchSlot(record, journal: journal, system: system) }
        if via != .network, !Self.networkSteps.contains(record.step) {
            if record.step == Self.inPlace && record.stepDone { return }
            if try installInPlace(record, journal: journal, system: system) { return }
        }
        let steps = Self.networkSteps, reached = steps.firstIndex(of: record.step)
        func taken(_ step: SwapStep) -> Bool {
            guard let reached, let index = steps.firstIndex(of: step) else { return false }
            return index < reached || (index == reached && record.stepDone)
        }
        if !taken(Self.networkBoot) {
            try journal.step(Self.networkBoot) {
                let deploy = try runnable(record)
                try bootState.activate(deploy)
                progress("\(host) boots the installer from imagec serve: network boot once, through \(controller.description)")
                try controller.setBootDevice(.network, once: true)
                try powerCycle(record, system: system)
            }
        }
        if !taken(Self.install) {
            try journal.step(Self.install) {
                let (deploy, slot) = try waitForInstaller(record)
                var slots = try bootState.slots(of: host)
                slots[slot] = HostSlots.Content(digest: record.digest, swap: record.id!)
                try bootState.record(slots, of: host)
                progress("slot \(slot) written; \(host) boots it on trial (deploy \(deploy.token.prefix(8))…)")
            }
        }
        if !taken(Self.diskBoot) {
            try journal.step(Self.diskBoot) {
                // Not trusting the one-time override: the disk, from now on.
                try controller.setBootDevice(.disk, once: false)
            }
        }
    }

    /// First of all, that the machine runs the slot on trial: one whose kernel panicked or that
    /// was reset comes back on the default slot by itself (the trial is used up), and then
    /// answers as the previous image.
    public func checks(for record: SwapRecord) -> [Check] {
        guard let slot = written(record) else { return [] }
        return [.command("""
            label=$(lsblk -no PARTLABEL "$(findmnt -no SOURCE /)")
            [ "$label" = root-\(slot) ] || { echo "\(host) runs $label: slot \(slot) did not stay up (its kernel panicked, or the machine was reset, during its trial boot)"; exit 1; }
            """, timeout: 5, name: "slot \(slot)")]
    }

    /// The slot passed its checks: it becomes the boot loader's default, over SSH, once the
    /// running root is seen to be that slot.
    public func confirm(_ record: SwapRecord, system: any HostAccess) throws {
        guard let slot = written(record) else { throw DeployError("the installer of swap \(record.id!) reported no slot written") }
        var environment = try bootEnvironment(record, system: system, running: slot)
        environment["default_slot"] = slot
        environment["trial_slot"] = nil
        environment["trial_left"] = "0"
        environment["trial_token"] = nil
        try write(environment, record, system: system)
        var slots = try bootState.slots(of: host)
        slots.defaultSlot = slot
        slots[slot] = HostSlots.Content(digest: record.digest, swap: record.id!)
        try bootState.record(slots, of: host)
        progress("slot \(slot) is \(host)'s default now")
    }

    /// A rollback: the running system makes the other slot its trial, powers off, and the BMC
    /// powers it on; the checks and ``confirm(_:system:)`` follow as for a deploy.
    private func switchSlot(_ record: SwapRecord, journal: StepJournal, system: any HostAccess) throws {
        guard record.step != Self.switchSlot || !record.stepDone else { return }
        let slot = try Self.slot(named: record.incoming)
        if via != .network, let machine = try? runningSlots(record, system: system), machine.running == HostSlots.other(slot) {
            return try journal.step(Self.switchSlot) {
                progress("\(host) kexecs into slot \(slot), on trial")
                try bootSlot(slot, trial: true, record, system: system)
            }
        }
        try journal.step(Self.switchSlot) {
            var environment = try bootEnvironment(record, system: system, running: HostSlots.other(slot))
            environment["trial_slot"] = slot
            environment["trial_left"] = "1"
            try write(environment, record, system: system)
            // Powered off and on through the BMC, not rebooted: the machine reads its boot
            // settings afresh (a network boot left set by an earlier install does not come back).
            progress("\(host) powers off, then on into slot \(slot), on trial")
            try controller.setBootDevice(.disk, once: false)
            if system.requestPowerOff(record) {
                let deadline = Date().addingTimeInterval(stallTimeout)
                while Date() < deadline, try controller.powerState() == .on { Thread.sleep(forTimeInterval: pollInterval) }
            }
            if try controller.powerState() == .on { try controller.power(.forceOff) }
            try controller.power(.on)
        }
    }

    /// The GRUB environment of the running system, which must run `running`.
    private func bootEnvironment(_ record: SwapRecord, system: any HostAccess, running slot: String) throws -> SlotBoot.Environment {
        let read = try system.run(record, script: """
            root=$(findmnt -no SOURCE /) && label=$(lsblk -no PARTLABEL "$root") || exit 3
            if [ "$label" != root-\(slot) ]; then echo "the running root is $root ($label), not root-\(slot)"; exit 3; fi
            base64 -w0 \(Self.environmentFile)
            """, timeout: 30)
        guard read.status == 0, let block = Data(base64Encoded: read.output.trimmingCharacters(in: .whitespacesAndNewlines)),
              let environment = SlotBoot.Environment(block: block) else {
            throw DeployError("\(host) does not run slot \(slot) as it should: \(read.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return environment
    }

    /// Writes the running system's GRUB environment in place, as GRUB's own save_env does.
    private func write(_ environment: SlotBoot.Environment, _ record: SwapRecord, system: any HostAccess) throws {
        guard let block = environment.block else { throw DeployError("\(host)'s GRUB environment is full") }
        let written = try system.run(record, script: """
            printf '%s' \(block.base64EncodedString()) | base64 -d | dd of=\(Self.environmentFile) conv=notrunc,fsync status=none
            """, timeout: 30)
        guard written.status == 0 else { throw DeployError("cannot write \(host)'s \(Self.environmentFile): \(written.output)") }
    }

    private static let environmentFile = "\(SlotBoot.espMountPoint)/\(SlotBoot.environmentPath)"

    /// `a` of `slot a`.
    static func slot(named name: String) throws -> String {
        guard let slot = name.split(separator: " ").last.map(String.init), ["a", "b"].contains(slot), name.hasPrefix("slot ") else {
            throw DeployError("'\(name)' names no root slot")
        }
        return slot
    }

    /// No more network installs; the disk as boot device; a power cycle, which boots the default
    /// slot (the previous image): a trial slot not blessed is never booted twice.
    public func revert(_ record: SwapRecord, journal: StepJournal, system: any HostAccess) throws {
        let incoming = written(record)
        for deploy in bootState.deploys(host: host, swap: String(record.id!)) { try bootState.finish(token: deploy.token) }
        var slots = try bootState.slots(of: host)
        if let incoming, incoming != slots.defaultSlot {
            slots.lastFailedTry = HostSlots.FailedTry(slot: incoming, swap: record.id!, digest: record.digest)
            try bootState.record(slots, of: host)
        }
        let inPlace = (try? journal.ledger.steps(of: record.id!))?.contains { $0.0 == Self.inPlace.rawValue } ?? false
        if !inPlace { try controller.setBootDevice(.disk, once: false) }
        // Back on its default slot by itself (a trial that panicked or was reset): nothing to undo.
        if let previous = slots.defaultSlot, let environment = runsOnly(previous, record, system: system) {
            let recorded = environment["failed_slot"].map { " (its boot loader recorded the failed try of slot \($0))" } ?? ""
            progress("\(host) came back on its default slot, \(previous), by itself\(recorded): nothing to undo")
            return
        }
        // In place, and running the trial: back into the default slot by kexec, no firmware.
        if inPlace, let previous = slots.defaultSlot, let machine = try? runningSlots(record, system: system),
           machine.running == HostSlots.other(previous) {
            progress("\(host) kexecs back into its default slot, \(previous)")
            try bootSlot(previous, trial: false, record, system: system)
            return
        }
        if inPlace { try controller.setBootDevice(.disk, once: false) }
        progress("power-cycling \(host) to boot " + (slots.defaultSlot.map { "its default slot, \($0)" } ?? "its disk (it had no slot before)"))
        try powerCycle(record, system: system)
        // A trial armed but not yet started (the installer stopped between arming it and its
        // kexec) takes this boot: once more, and the boot loader gives up the trial.
        guard let previous = slots.defaultSlot, let incoming = written(record), incoming != previous else { return }
        let deadline = Date().addingTimeInterval(stallTimeout)
        while Date() < deadline {
            if let answer = try? system.run(record, script: "lsblk -no PARTLABEL \"$(findmnt -no SOURCE /)\"", timeout: 20), answer.status == 0 {
                guard answer.output.contains("root-\(incoming)") else { return }
                progress("\(host) took its unblessed trial slot \(incoming): power-cycling once more")
                try powerCycle(record, system: system)
                return
            }
            Thread.sleep(forTimeInterval: pollInterval)
        }
    }

    /// The machine's GRUB environment if it answers, runs `slot` and has no trial left to boot.
    private func runsOnly(_ slot: String, _ record: SwapRecord, system: any HostAccess) -> SlotBoot.Environment? {
        guard let environment = try? bootEnvironment(record, system: system, running: slot),
              environment["trial_slot"] == nil || environment["trial_left"] != "1" else { return nil }
        return environment
    }

    // MARK: - Status

    /// Both slots: what imagec recorded each holds, which is the default, the last trial given
    /// up, and, when the running system answers, which it runs and its own record of a failed try.
    public func slotStatus(_ record: SwapRecord, system: (any HostAccess)?) -> [SlotStatus] {
        let slots = (try? bootState.slots(of: host)) ?? HostSlots()
        let machine = system.flatMap { try? runningSlots(record, system: $0) }
        return ["a", "b"].map { slot in
            SlotStatus(slot: slot, digest: slots[slot]?.digest, swap: slots[slot]?.swap, isDefault: slots.defaultSlot == slot,
                       running: machine.map { $0.running == slot },
                       failedTry: slots.lastFailedTry.flatMap { $0.slot == slot && slots[slot]?.swap == $0.swap ? "swap \($0.swap)" : nil }
                           ?? (machine?.environment["failed_slot"] == slot ? "the boot loader's last failed try" : nil))
        }
    }

    // MARK: - In place

    /// What the running system says of its slots.
    struct RunningSlots {
        var running: String
        var environment: [String: String]
    }

    /// The slot the running system runs and its GRUB environment, over SSH; fails with why the
    /// machine cannot take an image in place.
    private func runningSlots(_ record: SwapRecord, system: any HostAccess) throws -> RunningSlots {
        let probe = try system.run(record, script: """
            for tool in python3 kexec debugfs sfdisk; do command -v $tool >/dev/null || { echo "it has no $tool"; exit 3; }; done
            label=$(lsblk -no PARTLABEL "$(findmnt -no SOURCE /)")
            case "$label" in root-a|root-b) ;; *) echo "its root is not a root slot ($label)"; exit 3 ;; esac
            echo "running=${label#root-}"
            grep -a '^[a-z_]*=' \(Self.environmentFile) || { echo "it has no GRUB environment at \(Self.environmentFile)"; exit 3; }
            """, timeout: 30)
        let lines = probe.output.split(separator: "\n").map(String.init)
        guard probe.status == 0 else { throw DeployError(probe.output.trimmingCharacters(in: .whitespacesAndNewlines)) }
        var values: [String: String] = [:]
        for line in lines { if let equals = line.firstIndex(of: "=") { values[String(line[..<equals])] = String(line[line.index(after: equals)...]) } }
        guard let running = values.removeValue(forKey: "running") else { throw DeployError("no answer: \(probe.output)") }
        return RunningSlots(running: running, environment: values)
    }

    /// Writes the slot through the running system; false (nothing written) when it cannot, and
    /// the network may.
    private func installInPlace(_ record: SwapRecord, journal: StepJournal, system: any HostAccess) throws -> Bool {
        let swap = String(record.id!)
        let machine: RunningSlots
        do {
            machine = try runningSlots(record, system: system)
        } catch {
            if via == .inPlace { throw DeployError("\(host) cannot take its image in place: \(error)") }
            progress("\(host) cannot take its image in place (\(error)): through \(controller.description) and the network boot instead")
            return false
        }
        try journal.step(Self.inPlace) {
            // Resumed once the agent had armed the trial and kexeced: the slot is written.
            if let token = machine.environment["trial_token"], !token.isEmpty, machine.environment["trial_slot"] == machine.running,
               machine.environment["default_slot"] != machine.running,
               bootState.deploys(host: host, swap: swap).contains(where: { $0.token.hasPrefix(token) }) {
                return try recordWritten(machine.running, record)
            }
            guard machine.environment["default_slot", default: "a"] == machine.running else {
                throw DeployError("\(host) runs slot \(machine.running), which is not its default: a trial is in progress (imagec rollback \(host))")
            }
            let deploy = try runnable(record)
            try bootState.openInPlace(deploy)
            let server = try LocalBootServer(state: bootState)
            defer { server.stop() }
            let remote = Int.random(in: 20000..<60000)
            progress("\(host) writes slot \(HostSlots.other(machine.running)) while it runs slot \(machine.running), over SSH")
            let session = Session()
            let script = """
                printf '%s' \(Data(NetworkInstaller.agent.utf8).base64EncodedString()) | base64 -d >/run/imagec-install || exit 1
                exec python3 /run/imagec-install --in-place --server http://127.0.0.1:\(remote) --token \(deploy.token) --watchdog \(watchdogTimeout)
                """
            Thread.detachNewThread { [installerTimeout, stallTimeout] in
                let result = Result { try system.run(record, script: script, timeout: installerTimeout + stallTimeout, forwarding: (remote, server.port)) }
                session.end(result)
            }
            let (_, slot) = try waitForInstaller(record, session: session)
            try recordWritten(slot, record)
            waitForSwitch(from: machine.running, record, system: system, session: session)
        }
        return true
    }

    /// Waits until the system that ran `slot` has gone (the kexec under way) or the machine runs
    /// another slot, so that the checks reach the new system, not the old one shutting down.
    private func waitForSwitch(from slot: String, _ record: SwapRecord, system: any HostAccess, session: Session? = nil) {
        let deadline = Date().addingTimeInterval(stallTimeout)
        while Date() < deadline {
            if session?.ended != nil || session == nil {
                guard let machine = try? runningSlots(record, system: system), machine.running == slot else { return }
            }
            Thread.sleep(forTimeInterval: 1)
        }
    }

    private func recordWritten(_ slot: String, _ record: SwapRecord) throws {
        var slots = try bootState.slots(of: host)
        slots[slot] = HostSlots.Content(digest: record.digest, swap: record.id!)
        try bootState.record(slots, of: host)
        progress("slot \(slot) written; \(host) kexecs into it on trial")
    }

    /// The running system kexecs into `slot`: on trial, or as its default (giving a trial up).
    private func bootSlot(_ slot: String, trial: Bool, _ record: SwapRecord, system: any HostAccess) throws {
        let result = try system.run(record, script: """
            printf '%s' \(Data(NetworkInstaller.agent.utf8).base64EncodedString()) | base64 -d >/run/imagec-install || exit 1
            python3 /run/imagec-install --boot-slot \(slot)\(trial ? " --trial" : "") --watchdog \(watchdogTimeout)
            """, timeout: 120)
        guard result.status == 0 else { throw DeployError("\(host) could not switch to slot \(slot): \(result.output)") }
        waitForSwitch(from: HostSlots.other(slot), record, system: system)
    }

    /// The SSH session the agent runs in: how it ended, once it has.
    final class Session: @unchecked Sendable {
        private let lock = NSLock()
        private var outcome: Result<(status: Int32, output: String), any Error>?
        func end(_ outcome: Result<(status: Int32, output: String), any Error>) { lock.withLock { self.outcome = outcome } }
        /// Why it ended, once it has: its output, or the error.
        var ended: String? {
            lock.withLock {
                switch outcome {
                case nil: nil
                case .success(let result)?: "exit \(result.status): " + result.output.split(separator: "\n").suffix(20).joined(separator: "\n")
                case .failure(let error)?: "\(error)"
                }
            }
        }
    }

    // MARK: - Steps

    /// The swap's deploy, if the installer can still run it; otherwise a new one, with a new
    /// token and the identity again (a run that failed or took the identity is over).
    private func runnable(_ record: SwapRecord) throws -> PendingDeploy {
        let swap = String(record.id!)
        guard var deploy = bootState.deploys(host: host, swap: swap).first else {
            throw DeployError("imagec serve's state \(bootState.directory.path) has no deploy of \(host)'s swap \(swap): it was prepared elsewhere or removed")
        }
        let over = bootState.reports(token: deploy.token).contains { $0.kind == .done || $0.kind == .failed }
        if over || !bootState.holdsIdentity(of: deploy) {
            try bootState.finish(token: deploy.token)
            deploy.token = PendingDeploy.makeToken()
            try bootState.prepare(deploy, identity: try identity())
        }
        return deploy
    }

    /// Asks the running system to flush its file systems (if it answers), then cuts the power
    /// and powers the machine on: a power cycle, which every BMC does and which makes the
    /// machine read its boot settings afresh.
    private func powerCycle(_ record: SwapRecord, system: any HostAccess) throws {
        if try controller.powerState() == .on {
            _ = system.requestSync(record)
            try controller.power(.forceOff)
        }
        try controller.power(.on)
    }

    /// Follows the installer's reports until it is done; the slot it wrote. Fails with the
    /// installer's step and output, or when it stops reporting, or the machine goes off.
    private func waitForInstaller(_ record: SwapRecord, session: Session? = nil) throws -> (PendingDeploy, String) {
        let who = session == nil ? "installer" : "agent"
        let started = Date()
        var lastReport = started, seen = 0, offSince: Date?, lastPower = Date.distantPast, lastShown = Date.distantPast
        var deploy = try latest(record)
        // The installer's step in progress and when it began, and its last progress.
        var step: (String, Double)?, lastProgress: InstallerReport?
        while true {
            if let newer = bootState.deploys(host: host, swap: String(record.id!)).first, newer.token != deploy.token {
                deploy = newer
                seen = 0
            }
            let reports = bootState.reports(token: deploy.token)
            for report in reports.dropFirst(seen) {
                lastReport = Date()
                // When the installer sent it (by its clock), else when it was read here.
                let at = report.elapsed ?? Date().timeIntervalSince(started)
                if report.kind != .progress, let (name, began) = step {
                    // The step before is over: its duration, and its throughput if it wrote.
                    let seconds = at - began
                    var line = String(format: "%@: %@ took %.1f s", who, name, seconds)
                    if let written = lastProgress?.written, written > 0, lastProgress?.step == name {
                        line += String(format: " (%@ written, %.1f MiB/s; %@ fetched so far)", ByteCount(bytes: UInt64(written)).rounded,
                                       Double(written) / 1_048_576 / max(seconds, 0.001), ByteCount(bytes: UInt64(lastProgress?.fetched ?? 0)).rounded)
                    }
                    progress(line)
                    step = nil
                }
                if report.kind == .progress { lastProgress = report }
                switch report.kind {
                case .step:
                    step = (report.step ?? "?", at)
                    progress("\(who): \(report.step ?? "?")" + (report.slot.map { " (slot \($0))" } ?? ""))
                case .progress where Date().timeIntervalSince(lastShown) >= 10 || report.written == report.total:
                    lastShown = Date()
                    progress("\(who): \(report.step ?? "?"): " + Self.bytes(report))
                case .progress:
                    break
                case .done:
                    progress(String(format: "%@: done in %.0f s, %@ fetched", who, Date().timeIntervalSince(started),
                                    ByteCount(bytes: UInt64(report.fetched ?? 0)).rounded))
                    guard let slot = report.slot, ["a", "b"].contains(slot) else {
                        throw DeployError("the installer of \(host) reported done without naming the slot it wrote")
                    }
                    return (deploy, slot)
                case .failed:
                    let output = (report.output ?? "").split(separator: "\n").suffix(20).map { "    \($0)" }.joined(separator: "\n")
                    throw DeployError("the \(who) failed at its step '\(report.step ?? "?")': \(report.message ?? "no message")"
                        + (output.isEmpty ? "" : "\n\(output)"))
                }
            }
            seen = reports.count
            // The agent's SSH session ended with no last report (read once more: it may have come since).
            if let session, let ended = session.ended, bootState.reports(token: deploy.token).count == seen {
                // Its connection cut by a power-off, most likely: said as such.
                if (try? controller.powerState()) == .off { throw DeployError("\(host) was powered off while its agent ran") }
                throw DeployError("imagec's agent on \(host) ended before it was done: \(ended)")
            }
            let quiet = Date().timeIntervalSince(lastReport)
            if reports.isEmpty, quiet > installerTimeout {
                throw DeployError("no installer reported within \(Int(installerTimeout)) s: did \(host) boot from the network "
                    + "(its boot order, the DHCP boot file pointing at imagec serve's /boot.ipxe)?")
            }
            if !reports.isEmpty, quiet > stallTimeout {
                throw DeployError("\(host)'s installer has not reported for \(Int(stallTimeout)) s (last: \(reports.last!.step ?? "?"))")
            }
            if Date().timeIntervalSince(lastPower) >= powerCheckInterval {
                lastPower = Date()
                if (try? controller.powerState()) == .off {
                    if let offSince, Date().timeIntervalSince(offSince) >= powerCheckInterval * 1.5 {
                        throw DeployError("\(host) was powered off while its \(who) ran")
                    }
                    offSince = offSince ?? Date()
                } else {
                    offSince = nil
                }
            }
            Thread.sleep(forTimeInterval: pollInterval)
        }
    }

    private func latest(_ record: SwapRecord) throws -> PendingDeploy {
        guard let deploy = bootState.deploys(host: host, swap: String(record.id!)).first else {
            throw DeployError("imagec serve's state \(bootState.directory.path) has no deploy of \(host)'s swap \(record.id!)")
        }
        return deploy
    }

    /// The slot the swap's installer wrote, from its reports (a rollback's: the slot it goes back to).
    private func written(_ record: SwapRecord) -> String? {
        if record.kind == .rollback { return try? Self.slot(named: record.incoming) }
        return bootState.deploys(host: host, swap: String(record.id!)).lazy
            .compactMap { deploy in bootState.reports(token: deploy.token).last { $0.kind == .done }?.slot }.first
    }

    private static func bytes(_ report: InstallerReport) -> String {
        func size(_ value: Int?) -> String { ByteCount(bytes: UInt64(max(0, value ?? 0))).rounded }
        return "\(size(report.fetched)) fetched, \(size(report.written)) of \(size(report.total)) written"
    }
}
