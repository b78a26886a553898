/// A group, with a fixed gid so that files on shared storage keep their owners.
public struct Group: Codable, Hashable, Sendable, SystemComponent {
    public var name: String
    public var gid: Int?
    /// Users added to the group besides those that list it in their `groups`.
    public var members: [String]

    public init(_ name: String, gid: Int? = nil, members: [String] = []) {
        self.name = name
        self.gid = gid
        self.members = members
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.upsert(self, into: \.groups, key: "group:\(name)", at: location) { $0.name == name }
    }
}
