/// The locales generated on the system; the first is the default (`LANG`).
///
/// ```swift
/// Locales("en_US.UTF-8", "fr_FR.UTF-8")
/// ```
public struct Locales: SystemComponent {
    public var names: [String]

    public init(_ names: String...) { self.names = names }
    public init(_ names: [String]) { self.names = names }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        if names.isEmpty { system.report("Locales needs at least one locale", at: location) }
        system.set(\.locales, to: names, key: "locales", at: location)
    }
}
