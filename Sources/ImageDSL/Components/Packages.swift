/// Debian packages to install, by name.
///
/// ```swift
/// Packages("samtools", "bwa", "r-base-core")
/// ```
public struct Packages: SystemComponent {
    public var names: [String]

    public init(_ names: String...) { self.names = names }
    public init(_ names: [String]) { self.names = names }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        for name in names {
            system.declare("package:\(name)", at: location)
            if !system.packages.contains(name) { system.packages.append(name) }
        }
    }
}
