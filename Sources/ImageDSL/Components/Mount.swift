/// A file system mounted at boot (a line of `/etc/fstab`), such as an NFS export.
public struct Mount: Codable, Hashable, Sendable, SystemComponent {
    /// What to mount: `server:/export`, `LABEL=data`, `tmpfs`.
    public var what: String
    /// Where: an absolute path.
    public var mountPoint: String
    /// The file system type: `nfs`, `ext4`, `tmpfs`…
    public var type: String
    public var options: [String]

    public init(_ what: String, at mountPoint: String, type: String, options: [String] = ["defaults"]) {
        self.what = what
        self.mountPoint = mountPoint
        self.type = type
        self.options = options
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.upsert(self, into: \.mounts, key: "mount:\(mountPoint)", at: location) { $0.mountPoint == mountPoint }
    }
}
