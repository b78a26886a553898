/// A port the firewall lets in, optionally only from some network.
public struct FirewallRule: Codable, Hashable, Sendable {
    public enum TransportProtocol: String, Codable, Sendable {
        case tcp, udp
    }

    public var transport: TransportProtocol
    public var port: Int
    /// A source network in CIDR notation; `nil` allows any source.
    public var source: String?

    public init(_ transport: TransportProtocol, port: Int, from source: String? = nil) {
        self.transport = transport
        self.port = port
        self.source = source
    }

    /// The rule as an nftables statement.
    var nftables: String {
        let family = source.map { $0.contains(":") ? "ip6 saddr \($0) " : "ip saddr \($0) " } ?? ""
        return "\(family)\(transport.rawValue) dport \(port) accept"
    }
}
