/// A file the image carries, with its content, mode and owner.
///
/// ```swift
/// File("/etc/motd", contents: "Booked machine: see the lab wiki.\n")
/// File("/usr/local/sbin/cleanup", mode: 0o755, contents: script)
/// ```
public struct File: Codable, Hashable, Sendable, SystemComponent {
    /// Absolute path in the image.
    public var path: String
    public var contents: String
    /// Permission bits, such as `0o644`.
    public var mode: Int
    public var owner: String
    public var group: String

    public init(_ path: String, mode: Int = 0o644, owner: String = "root", group: String = "root", contents: String) {
        self.path = path
        self.contents = contents
        self.mode = mode
        self.owner = owner
        self.group = group
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.upsert(self, into: \.files, key: "file:\(path)", at: location) { $0.path == path }
    }
}
