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

    /// The name systemd gives the unit of `path` (`systemd-escape --path --suffix=SUFFIX`):
    /// `/home` → `home.mount`, `/dev/disk/by-label/home` → `dev-disk-by\x2dlabel-home.device`.
    public static func name(ofPath path: String, suffix: String) -> String {
        let trimmed = path.split(separator: "/").joined(separator: "/")
        guard !trimmed.isEmpty else { return "-.\(suffix)" }
        var name = ""
        for (index, byte) in trimmed.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "/"): name += "-"
            case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"):
                name += index == 0 && byte == UInt8(ascii: ".") ? "\\x2e" : String(UnicodeScalar(byte))
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                name += String(UnicodeScalar(byte))
            default:
                let hex = String(byte, radix: 16)
                name += "\\x" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return name + "." + suffix
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.upsert(self, into: \.units, key: "unit:\(name)", at: location) { $0.name == name }
    }
}
