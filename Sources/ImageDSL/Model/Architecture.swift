/// The processor architecture a system is built for, named as Debian names it.
public enum Architecture: String, Codable, Hashable, Sendable, CaseIterable, SystemComponent {
    case amd64
    case arm64

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.set(\.architecture, to: self, key: "architecture", at: location)
    }
}
