/// Removes inherited kernel arguments (for example `quiet` in a debug variant).
public struct RemoveKernelArguments: SystemComponent {
    public var arguments: [String]

    public init(_ arguments: String...) { self.arguments = arguments }
    public init(_ arguments: [String]) { self.arguments = arguments }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        for argument in arguments {
            system.remove(from: \.kernelArguments, "kernel argument '\(argument)'", at: location) { $0 == argument }
        }
    }
}
