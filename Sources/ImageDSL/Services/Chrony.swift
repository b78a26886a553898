/// Time synchronisation with chrony, from the lab's NTP servers.
public struct Chrony: Service {
    public static let name = "chrony"
    public static var conflicts: [any Service.Type] { [Timesyncd.self] }

    public var servers: [String]

    public init(servers: [String]) { self.servers = servers }

    public var extensions: [ServiceExtension] {
        ServiceExtension.packages("chrony")
        ServiceExtension.file(File(
            "/etc/chrony/sources.d/imagec.sources",
            contents: servers.map { "server \($0) iburst\n" }.joined()))
        ServiceExtension.enable("chrony.service")
    }

    public func validate() -> [String] {
        servers.isEmpty ? ["chrony needs at least one NTP server"] : []
    }
}
