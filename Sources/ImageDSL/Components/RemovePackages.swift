/// Removes packages that an inherited template declared.
public struct RemovePackages: SystemComponent {
    public var names: [String]

    public init(_ names: String...) { self.names = names }
    public init(_ names: [String]) { self.names = names }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        for name in names {
            system.remove(from: \.packages, "package '\(name)'", at: location) { $0 == name }
        }
    }
}
