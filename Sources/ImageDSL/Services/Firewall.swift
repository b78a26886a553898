/// An nftables firewall that drops incoming traffic except what is allowed. Other services
/// (OpenSSH, the Slurm client, the monitoring agent) open their ports in it.
///
/// ```swift
/// Firewall(allow: [FirewallRule(.tcp, port: 443)])
/// ```
public struct Firewall: Service {
    public static let name = "firewall"

    public var allow: [FirewallRule]
    public var allowPing: Bool

    public init(allow: [FirewallRule] = [], allowPing: Bool = true) {
        self.allow = allow
        self.allowPing = allowPing
    }

    public typealias Extension = FirewallRule

    public func extended(with contributions: [FirewallRule]) -> Firewall {
        var firewall = self
        for rule in contributions where !firewall.allow.contains(rule) { firewall.allow.append(rule) }
        firewall.allow.sort { ($0.port, $0.transport.rawValue, $0.source ?? "") < ($1.port, $1.transport.rawValue, $1.source ?? "") }
        return firewall
    }

    public var extensions: [ServiceExtension] {
        // netbase: nft resolves protocol names such as ipv6-icmp through /etc/protocols.
        ServiceExtension.packages("nftables", "netbase")
        ServiceExtension.file(File("/etc/nftables.conf", mode: 0o755, contents: rules))
        ServiceExtension.enable("nftables.service")
    }

    var rules: String {
        var lines = [
            "#!/usr/sbin/nft -f",
            "# Written by imagec from the system definition.",
            "flush ruleset",
            "table inet filter {",
            "  chain input {",
            "    type filter hook input priority 0; policy drop;",
            "    ct state established,related accept",
            "    iif lo accept",
        ]
        if allowPing { lines += ["    meta l4proto { icmp, ipv6-icmp } accept"] } else {
            lines += ["    meta l4proto ipv6-icmp accept"]
        }
        lines += allow.map { "    \($0.nftables)" }
        lines += ["  }", "}"]
        return lines.joined(separator: "\n") + "\n"
    }

    public func validate() -> [String] {
        allow.filter { !(1...65535).contains($0.port) }.map { "firewall port \($0.port) is not between 1 and 65535" }
            + allow.compactMap(\.source).filter { !AddressSyntax.isCIDR($0) && !AddressSyntax.isIP($0) }
            .map { "firewall source '\($0)' is not an address or a network" }
    }
}
