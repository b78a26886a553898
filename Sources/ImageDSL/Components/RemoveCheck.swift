/// Turns off a check the system would otherwise run: one a template declared, one a service
/// contributes (`port 22/tcp listening`) or a default one (`boot`, `host name`, `users`).
///
/// ```swift
/// RemoveCheck("unit zabbix-agent.service active")
/// ```
public struct RemoveCheck: SystemComponent {
    public var name: String

    public init(_ name: String) { self.name = name }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.declare("removeCheck:\(name)", at: location)
        system.removedChecks[name] = location
        system.checks.removeAll { $0.name == name }
    }
}
