/// Removes a user that an inherited template declared.
public struct RemoveUser: SystemComponent {
    public var name: String

    public init(_ name: String) { self.name = name }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        guard system.users.contains(where: { $0.name == name }) else {
            system.report("cannot remove user '\(name)': the system does not declare it", at: location)
            return
        }
        system.users.removeAll { $0.name == name }
    }
}
