/// The console keyboard layout, in XKB terms (`fr`, `us`, `de` with an optional variant).
public struct Keyboard: Codable, Hashable, Sendable, SystemComponent {
    public var layout: String
    public var variant: String?

    public init(_ layout: String, variant: String? = nil) {
        self.layout = layout
        self.variant = variant
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.set(\.keyboard, to: self, key: "keyboard", at: location)
    }
}
