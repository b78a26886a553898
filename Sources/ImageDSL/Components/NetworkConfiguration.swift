/// A system's networking: interfaces, routes and name resolution.
public struct NetworkConfiguration: Codable, Hashable, Sendable {
    public var interfaces: [Interface] = []
    public var routes: [Route] = []
    public var nameServers: [String] = []
    public var searchDomains: [String] = []

    public init() {}
}
