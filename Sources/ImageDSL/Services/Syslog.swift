/// System logging with rsyslog, optionally forwarding everything to the lab's log servers.
public struct Syslog: Service {
    public static let name = "syslog"

    /// Log servers as `host:port`; TCP forwarding.
    public var forwardTo: [String]

    public init(forwardTo: [String] = []) { self.forwardTo = forwardTo }

    public var extensions: [ServiceExtension] {
        ServiceExtension.packages("rsyslog")
        ServiceExtension.enable("rsyslog.service")
        if !forwardTo.isEmpty {
            ServiceExtension.file(File("/etc/rsyslog.d/50-imagec-forward.conf", contents: forwarding))
        }
    }

    var forwarding: String {
        forwardTo.map { target in
            let parts = target.split(separator: ":", maxSplits: 1)
            return "*.* action(type=\"omfwd\" target=\"\(parts[0])\" port=\"\(parts.count > 1 ? parts[1] : "514")\" protocol=\"tcp\")\n"
        }.joined()
    }

    public func validate() -> [String] {
        forwardTo.filter { target in
            let parts = target.split(separator: ":", omittingEmptySubsequences: false)
            return parts.count > 2 || parts[0].isEmpty || (parts.count == 2 && Int(parts[1]).map { !(1...65535).contains($0) } ?? true)
        }.map { "syslog target '\($0)' is not host or host:port" }
    }
}
