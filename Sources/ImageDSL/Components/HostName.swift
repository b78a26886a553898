/// The system's host name (a single DNS label, such as `bigmem2`).
public struct HostName: SystemComponent {
    public var name: String

    public init(_ name: String) { self.name = name }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.set(\.hostName, to: name, key: "hostName", at: location)
    }
}
