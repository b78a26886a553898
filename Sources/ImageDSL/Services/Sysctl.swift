/// Kernel settings applied at boot, written to `/etc/sysctl.d/90-imagec.conf`. Other services
/// may add settings; the system gets this service automatically when one does.
///
/// ```swift
/// Sysctl(["vm.swappiness": "10", "kernel.dmesg_restrict": "1"])
/// ```
public struct Sysctl: Service {
    public static let name = "sysctl"
    public static var defaultInstance: Sysctl? { Sysctl([:]) }

    public var settings: [String: String]

    public init(_ settings: [String: String]) { self.settings = settings }

    public typealias Extension = [String: String]

    /// Settings the system declares win over those other services contribute.
    public func extended(with contributions: [[String: String]]) -> Sysctl {
        var merged: [String: String] = [:]
        for contribution in contributions { merged.merge(contribution) { _, new in new } }
        merged.merge(settings) { _, declared in declared }
        return Sysctl(merged)
    }

    public var extensions: [ServiceExtension] {
        let lines = settings.keys.sorted().map { "\($0) = \(settings[$0]!)" }
        ServiceExtension.file(File(
            "/etc/sysctl.d/90-imagec.conf",
            contents: (["# Written by imagec from the system definition."] + lines).joined(separator: "\n") + "\n"))
    }

    public func validate() -> [String] {
        settings.keys.sorted().filter { key in
            key.isEmpty || key.contains(" ") || key.hasPrefix(".") || key.hasSuffix(".")
        }.map { "'\($0)' is not a sysctl key" }
    }
}
