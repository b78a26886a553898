/// Removes an interface an inherited template declared (a VM whose network card is `ens18`
/// rather than the template's `eth0`), with the routes that use it.
public struct RemoveInterface: NetworkItem {
    public var name: String

    public init(_ name: String) { self.name = name }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.remove(from: \.network.interfaces, "interface '\(name)'", at: location) { $0.name == name }
        system.network.routes.removeAll { $0.interface == name }
    }
}
