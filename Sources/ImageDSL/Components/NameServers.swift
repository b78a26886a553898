/// The DNS servers, in order of preference; replaces inherited ones.
public struct NameServers: NetworkItem {
    public var addresses: [String]

    public init(_ addresses: String...) { self.addresses = addresses }
    public init(_ addresses: [String]) { self.addresses = addresses }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.set(\.network.nameServers, to: addresses, key: "nameServers", at: location)
    }
}
