/// Something `imagec test` verifies on the booted image (and deployment on the real machine),
/// declared with the system so a template's checks apply to every system that inherits it.
///
/// ```swift
/// Check.unitActive("slurmd.service")
/// Check.listening(port: 6818)
/// Check.command("sinfo --version", prints: "slurm 22")
/// Check.mounted("/scratch", atLeast: .gibibytes(2))
/// ```
///
/// Every system also gets three checks of its own: `boot` (multi-user.target reached with no
/// failed unit), `host name` and `users` (they match the definition); services add theirs
/// (OpenSSH: its unit is active and its port listens). ``RemoveCheck`` turns one off by name.
public struct Check: Codable, Hashable, Sendable, SystemComponent {
    /// What is verified.
    public enum Probe: Codable, Hashable, Sendable {
        /// `systemctl is-system-running` says `running`: boot finished and no unit failed.
        case bootCompleted
        /// The unit is active.
        case unitActive(String)
        /// Something listens on the port.
        case listening(port: Int, transport: FirewallRule.TransportProtocol)
        /// The command (run by `sh -c` as root) exits 0 and, if given, prints the text.
        case command(String, prints: String?)
        /// A file system is mounted there, at least this big.
        case mounted(String, atLeast: ByteCount?)
        /// The running host name.
        case hostName(String)
        /// Each user exists, with its declared uid when it has one.
        case users([UserExpectation])
    }

    /// A user the `users` check expects.
    public struct UserExpectation: Codable, Hashable, Sendable {
        public var name: String
        public var uid: Int?

        public init(name: String, uid: Int?) {
            self.name = name
            self.uid = uid
        }
    }

    /// Unique within a system: what `RemoveCheck` and reports name it by.
    public var name: String
    public var probe: Probe
    /// Seconds the check may keep failing (it is retried) before it counts as failed.
    public var timeout: Double

    public init(_ name: String, _ probe: Probe, timeout: Double = 60) {
        self.name = name
        self.probe = probe
        self.timeout = timeout
    }

    /// The unit (with its suffix, such as `nginx.service`) is active.
    public static func unitActive(_ unit: String, timeout: Double = 60, name: String? = nil) -> Check {
        Check(name ?? "unit \(unit) active", .unitActive(unit), timeout: timeout)
    }

    /// Something listens on `port`.
    public static func listening(
        port: Int, _ transport: FirewallRule.TransportProtocol = .tcp, timeout: Double = 60, name: String? = nil
    ) -> Check {
        Check(name ?? "port \(port)/\(transport.rawValue) listening", .listening(port: port, transport: transport), timeout: timeout)
    }

    /// `command` succeeds (and prints `text`, if given).
    public static func command(_ command: String, prints text: String? = nil, timeout: Double = 60, name: String? = nil) -> Check {
        Check(name ?? "command `\(command)`", .command(command, prints: text), timeout: timeout)
    }

    /// A file system is mounted at `mountPoint`, of `size` or more.
    public static func mounted(_ mountPoint: String, atLeast size: ByteCount? = nil, timeout: Double = 60, name: String? = nil) -> Check {
        Check(name ?? "mounted \(mountPoint)", .mounted(mountPoint, atLeast: size), timeout: timeout)
    }

    /// Multi-user.target reached with no failed unit (every system has it, named `boot`).
    public static func bootCompleted(timeout: Double = 120) -> Check { Check("boot", .bootCompleted, timeout: timeout) }

    /// A check with the same name replaces an inherited one.
    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.upsert(self, into: \.checks, key: "check:\(name)", at: location) { $0.name == name }
        system.removedChecks[name] = nil
    }
}
