/// The Zabbix monitoring agent, reporting to the lab's Zabbix servers.
public struct ZabbixAgent: Service {
    public static let name = "zabbix-agent"

    /// Servers allowed to poll the agent.
    public var servers: [String]
    /// Servers for active checks; empty means the same as `servers`.
    public var activeServers: [String]

    public init(servers: [String], activeServers: [String] = []) {
        self.servers = servers
        self.activeServers = activeServers
    }

    public var extensions: [ServiceExtension] {
        ServiceExtension.packages("zabbix-agent")
        ServiceExtension.file(File(
            "/etc/zabbix/zabbix_agentd.conf.d/imagec.conf",
            contents: """
                # Written by imagec from the system definition.
                Server=\(servers.joined(separator: ","))
                ServerActive=\((activeServers.isEmpty ? servers : activeServers).joined(separator: ","))
                HostnameItem=system.hostname

                """))
        ServiceExtension.enable("zabbix-agent.service")
        ServiceExtension.extendIfPresent(Firewall.self, with: FirewallRule(.tcp, port: 10050))
    }

    public func validate() -> [String] {
        servers.isEmpty ? ["the Zabbix agent needs at least one server"] : []
    }
}
