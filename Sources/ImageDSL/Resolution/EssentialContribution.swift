/// What every system contributes from its own fields, folded like a service's contributions
/// (as Guix folds its essential services): the sudo rules of its users, the checks every
/// system gets. An essential contribution never overrides what a service contributed or the
/// system declares; adding one means adding a value to ``all``, not editing `resolve()`.
struct EssentialContribution: Sendable {
    /// What an essential contribution reads: the system, and its users once services and its
    /// own declarations are folded in.
    struct Context: Sendable {
        var system: OperatingSystem
        var users: [User]
        var sources: [String: SourceLocation]
    }

    var name: String
    /// Each contribution with where it is reported as declared.
    var contribute: @Sendable (Context) -> [(ServiceExtension.SystemContribution, SourceLocation?)]

    static let all: [EssentialContribution] = [sudoRules, ownChecks, rootSlotTrials]

    /// Users with sudo rights need the package and a sudoers rule.
    static let sudoRules = EssentialContribution(name: "sudo rules") { context in
        let sudoers = context.users.filter { $0.sudo != .none }.sorted { $0.name < $1.name }
        guard let first = sudoers.first else { return [] }
        let rules = sudoers.map { user in "\(user.name) ALL=(ALL:ALL) \(user.sudo == .withoutPassword ? "NOPASSWD: " : "")ALL\n" }
        let location = context.sources["user:\(first.name)"]
        return [
            (.file(File("/etc/sudoers.d/50-imagec", mode: 0o440, contents: "# Written by imagec from the system definition.\n" + rules.joined())),
             location),
            (.packages(["sudo"]), location),
        ]
    }

    /// Every system's own checks: it boots, has its host name and its users, and its declared
    /// file systems (persistent volumes included) are mounted at 90 % of their size or more
    /// (file system overhead).
    static let ownChecks = EssentialContribution(name: "own checks") { context in
        let system = context.system
        var checks = [Check.bootCompleted(), Check("host name", .hostName(system.hostName ?? "")),
                      Check("users", .users(context.users.map { Check.UserExpectation(name: $0.name, uid: $0.uid) }.sorted { $0.name < $1.name }))]
        let mounted = system.disk.partitions.compactMap { partition in partition.mountPoint.map { ($0, partition.size, partition.fileSystem) } }
            + system.disk.persistentVolumes.map { ($0.mountPoint, $0.size, $0.fileSystem) }
        // A relative mount point is reported at its volume, not again at its check.
        checks += mounted.filter { $0.2 != .swap && $0.0.hasPrefix("/") }.map { Check.mounted($0.0, atLeast: ByteCount(bytes: $0.1.bytes / 10 * 9)) }
        return checks.map { (.check($0), system.location) }
    }

    /// A system with two root slots is switched in place and tried safely: Python, kexec-tools
    /// and sfdisk for imagec's agent (sent over SSH at each deploy; kexec never takes over the
    /// system's own reboots, which go through the boot loader and its fallback); a slot on trial
    /// that is not blessed within ``trialLimit`` seconds reboots into the default slot; the
    /// hardware watchdog, where the machine has one, is pinged by systemd and kept running
    /// through a kexec, so a trial that hangs before user space is reset.
    static let rootSlotTrials = EssentialContribution(name: "root slot trials") { context in
        guard context.system.disk.rootSlots == .ab else { return [] }
        let location = context.sources["rootSlots"] ?? context.system.location
        let script = File("/usr/local/libexec/imagec-trial", mode: 0o755, contents: """
            #!/bin/sh
            # Written by imagec: a root slot on trial (see SlotBoot in imagec's sources) that imagec
            # has not blessed within \(trialLimit) s reboots into the default slot, even if imagec is gone.
            environment=/boot/efi/grub/grubenv
            value() { sed -n "s/^$1=//p" "$environment"; }
            label=$(lsblk -no PARTLABEL "$(findmnt -no SOURCE /)")
            running=${label#root-}
            [ "$(value trial_slot)" = "$running" ] && [ "$(value default_slot)" != "$running" ] || exit 0
            echo "slot $running is on trial: unless imagec blesses it within \(trialLimit) s, the machine reboots into slot $(value default_slot)"
            sleep \(trialLimit)
            [ "$(value default_slot)" != "$running" ] || exit 0
            echo "slot $running was not blessed in time: rebooting into the default slot"
            systemctl reboot

            """)
        let unit = SystemdUnit("imagec-trial.service", contents: """
            [Unit]
            Description=imagec: give up a root slot on trial that is not blessed in time
            After=local-fs.target

            [Service]
            ExecStart=/usr/local/libexec/imagec-trial

            [Install]
            WantedBy=multi-user.target

            """)
        return [
            (.packages(["python3", "kexec-tools", "fdisk"]), location),
            (.file(File("/etc/default/kexec", contents: "# Written by imagec: reboots go through the boot loader, which keeps the root slots' fallback.\nLOAD_KEXEC=false\n")), location),
            (.file(script), location),
            (.unit(unit), location),
            (.file(File("/etc/systemd/system.conf.d/50-imagec-watchdog.conf", contents: "# Written by imagec.\n[Manager]\nRuntimeWatchdogSec=30s\n")), location),
            (.kernelArguments(["watchdog.stop_on_reboot=0"]), location),
        ]
    }

    /// Seconds a root slot on trial may run unblessed before it reboots into the default slot.
    static let trialLimit = 1800
}
