/// Declares networking: interfaces (DHCP, static, VLANs), routes and name servers.
///
/// ```swift
/// Network {
///     Interface("eno1", address: "10.8.0.42/16", gateway: "10.8.255.254")
///     VLAN(1504, on: "eno2", address: "10.50.0.42/16")
///     NameServers("10.8.0.1", "10.8.0.2")
///     SearchDomains("lab.example")
/// }
/// ```
///
/// An interface replaces an inherited interface of the same name; routes add to the
/// inherited ones; name servers and search domains replace the inherited lists.
public struct Network: SystemComponent {
    let declarations: [NetworkBuilder.Declaration]

    public init(@NetworkBuilder _ content: () -> [NetworkBuilder.Declaration]) {
        declarations = content()
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        for declaration in declarations {
            declaration.item.apply(to: &system, at: declaration.location)
        }
    }
}
