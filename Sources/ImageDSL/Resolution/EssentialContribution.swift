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

    static let all: [EssentialContribution] = [sudoRules, ownChecks]

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
}
