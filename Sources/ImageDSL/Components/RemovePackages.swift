/// Removes packages that an inherited template declared.
public struct RemovePackages: SystemComponent {
    public var names: [String]

    public init(_ names: String...) { self.names = names }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        for name in names {
            guard system.packages.contains(name) else {
                system.report("cannot remove package '\(name)': the system does not declare it", at: location)
                continue
            }
            system.packages.removeAll { $0 == name }
        }
    }
}
