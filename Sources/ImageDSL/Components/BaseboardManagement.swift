/// How imagec reaches a physical machine's BMC: its power, and the device it boots from next.
/// The credentials live in a file outside the definitions (`USER:PASSWORD` on one line,
/// readable by its owner only), never in the definition.
///
/// ```swift
/// BaseboardManagement.redfish("https://bigmem2-idrac.lab.example", system: "System.Embedded.1")
/// BaseboardManagement.ipmi("bigmem3-bmc.lab.example")
/// ```
public enum BaseboardManagement: Codable, Hashable, Sendable {
    /// A Redfish service: its root URL, the `ComputerSystem` of the machine (the last part of
    /// `/redfish/v1/Systems/<system>`), and whether its TLS certificate is checked.
    case redfish(url: String, system: String, credentialsFile: String, verifyCertificate: Bool)
    /// IPMI over LAN (`ipmitool -I lanplus`).
    case ipmi(host: String, port: Int, credentialsFile: String)

    public static func redfish(_ url: String, system: String, credentialsFile: String = "/etc/imagec/bmc.credentials",
                               verifyCertificate: Bool = true) -> BaseboardManagement {
        .redfish(url: url, system: system, credentialsFile: credentialsFile, verifyCertificate: verifyCertificate)
    }

    public static func ipmi(_ host: String, port: Int = 623, credentialsFile: String = "/etc/imagec/bmc.credentials") -> BaseboardManagement {
        .ipmi(host: host, port: port, credentialsFile: credentialsFile)
    }

    /// The BMC, for messages: `https://bmc.lab.example (Redfish, system 1)`, `bmc3 (IPMI)`.
    public var description: String {
        switch self {
        case .redfish(let url, let system, _, _): "\(url) (Redfish, system \(system))"
        case .ipmi(let host, let port, _): "\(host)\(port == 623 ? "" : ":\(port)") (IPMI)"
        }
    }

    /// What is wrong with the value, if anything.
    public func validate() -> [String] {
        var problems: [String] = []
        switch self {
        case .redfish(let url, let system, let credentials, _):
            if !(url.hasPrefix("https://") || url.hasPrefix("http://")) || url.dropFirst(8).isEmpty {
                problems.append("the Redfish URL '\(url)' is not an http(s):// URL")
            }
            if system.isEmpty || system.contains("/") {
                problems.append("the Redfish system '\(system)' is not the last part of /redfish/v1/Systems/<system>")
            }
            if !credentials.hasPrefix("/") { problems.append("the BMC credentials file '\(credentials)' is not an absolute path") }
        case .ipmi(let host, let port, let credentials):
            if host.isEmpty || host.contains(where: { $0.isWhitespace || $0 == "/" }) { problems.append("the IPMI host '\(host)' is not a host name or address") }
            if !(1...65535).contains(port) { problems.append("the IPMI port \(port) is not between 1 and 65535") }
            if !credentials.hasPrefix("/") { problems.append("the BMC credentials file '\(credentials)' is not an absolute path") }
        }
        return problems
    }
}
