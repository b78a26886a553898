/// A VLAN interface (`eno2.1504`) on a parent interface.
///
/// ```swift
/// VLAN(1504, on: "eno2", address: "10.50.0.42/16")
/// ```
public func VLAN(
    _ id: Int, on parent: String, address: String? = nil, gateway: String? = nil, mtu: Int? = nil
) -> Interface {
    var interface = address.map { Interface("\(parent).\(id)", address: $0, mtu: mtu) }
        ?? Interface("\(parent).\(id)", .dhcp, mtu: mtu)
    interface.gateway = gateway
    interface.vlan = Interface.VLANTag(id: id, parent: parent)
    return interface
}
