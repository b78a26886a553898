/// A systemd unit: either a unit file the image carries, or (with no contents) a unit
/// that a package ships and that the system enables.
///
/// ```swift
/// SystemdUnit("scratch-cleanup.timer", contents: timer)
/// SystemdUnit("fstrim.timer")   // enable a packaged unit
/// ```
public struct SystemdUnit: Codable, Hashable, Sendable, SystemComponent {
    /// The unit's name with its suffix, such as `backup.service`.
    public var name: String
    /// The unit file, written to `/etc/systemd/system`; `nil` for a packaged unit.
    public var contents: String?
    /// Whether the unit is enabled (its `[Install]` section is honoured at build time).
    public var enabled: Bool

    public init(_ name: String, contents: String? = nil, enabled: Bool = true) {
        self.name = name
        self.contents = contents
        self.enabled = enabled
    }

    /// The unit types systemd knows, by suffix.
    public static let suffixes = [
        "service", "socket", "target", "timer", "mount", "automount", "path", "slice", "scope", "swap", "device",
    ]

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.upsert(self, into: \.units, key: "unit:\(name)", at: location) { $0.name == name }
    }
}
