/// The system's time zone, as a tz database name such as `Europe/Paris`.
public struct Timezone: SystemComponent {
    public var name: String

    public init(_ name: String) { self.name = name }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.set(\.timezone, to: name, key: "timezone", at: location)
    }
}
