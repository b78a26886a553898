/// The DNS search domains; replaces inherited ones.
public struct SearchDomains: NetworkItem {
    public var domains: [String]

    public init(_ domains: String...) { self.domains = domains }
    public init(_ domains: [String]) { self.domains = domains }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.set(\.network.searchDomains, to: domains, key: "searchDomains", at: location)
    }
}
