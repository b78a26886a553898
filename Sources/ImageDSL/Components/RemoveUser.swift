/// Removes a user that an inherited template declared.
public struct RemoveUser: SystemComponent {
    public var name: String

    public init(_ name: String) { self.name = name }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.remove(from: \.users, "user '\(name)'", at: location) { $0.name == name }
    }
}
