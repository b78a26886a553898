/// Removes inherited kernel arguments (for example `quiet` in a debug variant).
public struct RemoveKernelArguments: SystemComponent {
    public var arguments: [String]

    public init(_ arguments: String...) { self.arguments = arguments }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        for argument in arguments {
            guard system.kernelArguments.contains(argument) else {
                system.report("cannot remove kernel argument '\(argument)': the system does not have it", at: location)
                continue
            }
            system.kernelArguments.removeAll { $0 == argument }
        }
    }
}
