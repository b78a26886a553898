/// An NFS export. A system may declare several.
///
/// By default it is mounted on first access (a systemd automount), as autofs homes are: a
/// machine boots, and runs its own services, while the server is down or out of reach, as it
/// is in `imagec test`'s network. `automount: false` mounts it during the boot instead.
///
/// ```swift
/// NFSMount("nfs.lab.example:/export/home", at: "/home")
/// NFSMount("nfs.lab.example:/export/scratch", at: "/scratch", automount: false)
/// ```
public struct NFSMount: Service {
    public static let name = "nfs-mount"
    public static var allowsMultipleInstances: Bool { true }

    /// The export, as `server:/path`.
    public var export: String
    public var mountPoint: String
    public var options: [String]
    /// Mount on first access rather than during the boot.
    public var automount: Bool

    public init(_ export: String, at mountPoint: String, options: [String] = ["defaults", "_netdev"], automount: Bool = true) {
        self.export = export
        self.mountPoint = mountPoint
        self.options = options
        self.automount = automount
    }

    public var extensions: [ServiceExtension] {
        ServiceExtension.packages("nfs-common")
        ServiceExtension.mount(Mount(export, at: mountPoint, type: "nfs",
                                     options: options + (automount ? ["x-systemd.automount", "x-systemd.mount-timeout=30s"] : [])))
    }

    public func validate() -> [String] {
        var problems: [String] = []
        let parts = export.split(separator: ":", maxSplits: 1)
        if parts.count != 2 || parts[0].isEmpty || !parts[1].hasPrefix("/") {
            problems.append("NFS export '\(export)' is not server:/path")
        }
        if !mountPoint.hasPrefix("/") { problems.append("NFS mount point '\(mountPoint)' is not an absolute path") }
        return problems
    }
}
