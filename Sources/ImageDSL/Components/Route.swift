/// A static route.
///
/// ```swift
/// Route(to: "10.141.0.0/16", via: "10.50.255.254")
/// ```
public struct Route: Codable, Hashable, Sendable, NetworkItem {
    /// The destination in CIDR notation, or `default`.
    public var destination: String
    public var gateway: String
    /// The interface to use; `nil` lets the kernel choose by gateway.
    public var interface: String?

    public init(to destination: String, via gateway: String, interface: String? = nil) {
        self.destination = destination
        self.gateway = gateway
        self.interface = interface
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.upsert(self, into: \.network.routes, key: "route:\(destination)", at: location) {
            $0.destination == destination
        }
    }
}
