/// An NFS export mounted at boot. A system may declare several.
///
/// ```swift
/// NFSMount("nfs.lab.example:/export/home", at: "/home")
/// ```
public struct NFSMount: Service {
    public static let name = "nfs-mount"
    public static var allowsMultipleInstances: Bool { true }

    /// The export, as `server:/path`.
    public var export: String
    public var mountPoint: String
    public var options: [String]

    public init(_ export: String, at mountPoint: String, options: [String] = ["defaults", "_netdev"]) {
        self.export = export
        self.mountPoint = mountPoint
        self.options = options
    }

    public var extensions: [ServiceExtension] {
        ServiceExtension.packages("nfs-common")
        ServiceExtension.mount(Mount(export, at: mountPoint, type: "nfs", options: options))
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
