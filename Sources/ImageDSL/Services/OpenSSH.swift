/// The OpenSSH server: installs `openssh-server`, writes its settings to
/// `/etc/ssh/sshd_config.d/50-imagec.conf`, enables `ssh.service` and opens its port in the
/// system's firewall, if it has one. `imagec test` checks that `ssh.service` is active and
/// that the port listens.
///
/// Host keys are never in the image: they are injected per host at deployment, or created
/// on first boot for stand-alone use.
public struct OpenSSH: Service {
    public static let name = "openssh"

    /// Whether and how root may log in.
    public enum RootLogin: String, Codable, Sendable {
        case no
        case prohibitPassword = "prohibit-password"
        case yes
    }

    public var port: Int
    public var permitRootLogin: RootLogin
    public var passwordAuthentication: Bool
    public var x11Forwarding: Bool
    /// Extra `sshd_config` lines, verbatim.
    public var extraConfig: [String]

    public init(
        port: Int = 22, permitRootLogin: RootLogin = .prohibitPassword, passwordAuthentication: Bool = false,
        x11Forwarding: Bool = false, extraConfig: [String] = []
    ) {
        self.port = port
        self.permitRootLogin = permitRootLogin
        self.passwordAuthentication = passwordAuthentication
        self.x11Forwarding = x11Forwarding
        self.extraConfig = extraConfig
    }

    public var extensions: [ServiceExtension] {
        ServiceExtension.packages("openssh-server")
        ServiceExtension.file(File("/etc/ssh/sshd_config.d/50-imagec.conf", contents: configuration))
        ServiceExtension.enable("ssh.service")
        ServiceExtension.extendIfPresent(Firewall.self, with: FirewallRule(.tcp, port: port))
        ServiceExtension.check(.unitActive("ssh.service"))
        if validate().isEmpty { ServiceExtension.check(.listening(port: port)) }
    }

    var configuration: String {
        let lines = [
            "# Written by imagec from the system definition.",
            "Port \(port)",
            "PermitRootLogin \(permitRootLogin.rawValue)",
            "PasswordAuthentication \(passwordAuthentication ? "yes" : "no")",
            "X11Forwarding \(x11Forwarding ? "yes" : "no")",
        ] + extraConfig
        return lines.joined(separator: "\n") + "\n"
    }

    public func validate() -> [String] {
        (1...65535).contains(port) ? [] : ["OpenSSH port \(port) is not between 1 and 65535"]
    }
}
