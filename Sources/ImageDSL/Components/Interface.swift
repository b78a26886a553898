/// A network interface, configured by DHCP or with static addresses.
///
/// ```swift
/// Interface("eth0", .dhcp)
/// Interface("eno1", address: "10.8.0.42/16", gateway: "10.8.255.254")
/// ```
public struct Interface: Codable, Hashable, Sendable, NetworkItem {
    /// How an interface gets its addresses.
    public enum Addressing: Codable, Hashable, Sendable {
        case dhcp
        case manual
    }

    public var name: String
    public var dhcp: Bool
    /// Addresses with their prefix length, in CIDR notation (`10.8.0.42/16`, `2001:db8::2/64`).
    public var addresses: [String]
    public var gateway: String?
    public var mtu: Int?
    /// Set when the interface is a VLAN on another interface.
    public var vlan: VLANTag?

    /// A VLAN tag on a parent interface.
    public struct VLANTag: Codable, Hashable, Sendable {
        public var id: Int
        public var parent: String
    }

    /// An interface configured by DHCP (`.dhcp`) or left unconfigured (`.manual`, for example
    /// the parent of VLANs).
    public init(_ name: String, _ addressing: Addressing, mtu: Int? = nil) {
        self.name = name
        self.dhcp = addressing == .dhcp
        self.addresses = []
        self.mtu = mtu
    }

    /// An interface with one static address.
    public init(_ name: String, address: String, gateway: String? = nil, mtu: Int? = nil) {
        self.init(name, addresses: [address], gateway: gateway, mtu: mtu)
    }

    /// An interface with several static addresses.
    public init(_ name: String, addresses: [String], gateway: String? = nil, mtu: Int? = nil) {
        self.name = name
        self.dhcp = false
        self.addresses = addresses
        self.gateway = gateway
        self.mtu = mtu
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.upsert(self, into: \.network.interfaces, key: "interface:\(name)", at: location) { $0.name == name }
    }
}
