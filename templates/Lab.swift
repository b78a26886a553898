import ImageDSL

/// The lab's site template: what every machine shares (time zone, admins, SSH, NTP, logs,
/// monitoring), and the networks machines are placed on.
enum Lab {
    /// A network a machine can be placed on: prefix length, gateway and name servers.
    struct Subnet {
        var prefixLength: Int
        var gateway: String
        var nameServers: [String]
        var routes: [Route] = []

        /// The cluster network of the compute nodes.
        static let cluster = Subnet(prefixLength: 16, gateway: "10.141.255.252", nameServers: ["10.141.0.10", "10.141.0.11"])
        /// The network of service and test VMs.
        static let testnet = Subnet(
            prefixLength: 16, gateway: "10.50.255.254", nameServers: ["10.50.0.10"],
            routes: [Route(to: "10.141.0.0/16", via: "10.50.255.253")])
        /// The network of the bookable bigmem servers.
        static let bigmem = Subnet(prefixLength: 16, gateway: "10.8.255.254", nameServers: ["10.8.0.1", "10.8.0.2"])
    }

    static let ntpServers = ["ntp1.lab.example", "ntp2.lab.example"]
    static let logServer = "syslog.lab.example:514"
    static let zabbixServers = ["zabbix.lab.example"]

    /// The administrators, with sudo on every machine.
    static let admins = Components {
        User("yann", uid: 1501, groups: ["adm"], comment: "Lab admin",
             sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG2rOXCQga2Vac+YGxj0GQkU/sPawVBTOVnSHMhbvmM8 yann@admin"],
             sudo: .withoutPassword)
        User("remy", uid: 1502, groups: ["adm"], comment: "Lab admin",
             sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB16qAD5Djhg9VmRNUXfY8Uh0x3Sb6Ay3w4kcuwTk5+v remy@admin"],
             sudo: .withoutPassword)
    }

    /// What every lab machine has.
    static let base = OperatingSystem {
        Distribution.bookworm
        // Where a build finds the locked packages once they have left the archive (a snapshot
        // service in the layout of Debian's own):
        // SnapshotArchive("https://snapshot.lab.example/archive/{archive}/{timestamp}/")
        Timezone("Europe/Paris")
        Locales("en_US.UTF-8", "fr_FR.UTF-8")
        Keyboard("fr")
        Firmware.both
        admins
        OpenSSH(permitRootLogin: .no)
        Chrony(servers: ntpServers)
        Syslog(forwardTo: [logServer])
        ZabbixAgent(servers: zabbixServers)
        SerialConsole()
        Packages("ca-certificates", "curl", "less", "vim-tiny", "sudo")
        File("/etc/motd", contents: "This machine is managed by imagec: local changes are lost at the next reinstall.\n")
    }

    /// A static address on `subnet`, with its gateway, routes and name servers.
    static func network(_ interface: String, address: String, on subnet: Subnet) -> Network {
        Network {
            Interface(interface, address: "\(address)/\(subnet.prefixLength)", gateway: subnet.gateway)
            for route in subnet.routes { route }
            NameServers(subnet.nameServers)
            SearchDomains("lab.example")
        }
    }
}
