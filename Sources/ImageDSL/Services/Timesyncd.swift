/// Time synchronisation with systemd-timesyncd, a lighter client for VMs.
public struct Timesyncd: Service {
    public static let name = "timesyncd"
    public static var conflicts: [any Service.Type] { [Chrony.self] }

    public var servers: [String]

    public init(servers: [String]) { self.servers = servers }

    public var extensions: [ServiceExtension] {
        ServiceExtension.packages("systemd-timesyncd")
        ServiceExtension.file(File(
            "/etc/systemd/timesyncd.conf.d/imagec.conf",
            contents: "[Time]\nNTP=\(servers.joined(separator: " "))\n"))
        ServiceExtension.enable("systemd-timesyncd.service")
    }

    public func validate() -> [String] {
        servers.isEmpty ? ["timesyncd needs at least one NTP server"] : []
    }
}
