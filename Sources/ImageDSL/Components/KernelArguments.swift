/// Arguments added to the kernel command line, after any inherited ones.
///
/// ```swift
/// KernelArguments("console=tty0", "console=ttyS0,115200")
/// ```
public struct KernelArguments: SystemComponent {
    public var arguments: [String]

    public init(_ arguments: String...) { self.arguments = arguments }
    public init(_ arguments: [String]) { self.arguments = arguments }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        for argument in arguments {
            system.declare("kernelArgument:\(argument)", at: location)
            if !system.kernelArguments.contains(argument) { system.kernelArguments.append(argument) }
        }
    }
}
