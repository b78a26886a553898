import Checks
import Foundation
import Identity
import ImagecCore
import ImageDSL
import SwapLedger

/// The system running on a host, as a swap reaches it: asked to stop before its machine is
/// stopped, and checked once the machine runs its new image. ``SSHHostAccess`` reaches it
/// over SSH as root with imagec's deploy key, the host's stable keys pinned.
public protocol HostAccess: Sendable {
    /// Asks the system to power itself off; whether it accepted.
    func requestPowerOff(_ record: SwapRecord) -> Bool
    /// Asks the system to write its file systems' dirty data out; whether it did.
    func requestSync(_ record: SwapRecord) -> Bool
    /// Waits up to `bootTimeout` seconds for the system to answer, then runs `checks`.
    func check(_ record: SwapRecord, checks: [Check], bootTimeout: Double,
               progress: ProgressReporter) throws -> HealthCheck.Outcome
    /// Runs a shell script on the system as root: its exit status and output.
    func run(_ record: SwapRecord, script: String, timeout: Double) throws -> (status: Int32, output: String)
    /// Runs a shell script as root with the system's 127.0.0.1:`forwarding.remote` reaching this
    /// host's 127.0.0.1:`forwarding.local` while it runs (an SSH remote forwarding).
    func run(_ record: SwapRecord, script: String, timeout: Double, forwarding: (remote: Int, local: Int)) throws -> (status: Int32, output: String)
}

extension HostAccess {
    public func run(_ record: SwapRecord, script: String, timeout: Double, forwarding: (remote: Int, local: Int)) throws -> (status: Int32, output: String) {
        throw DeployError("\(record.host) cannot be reached with a forwarded port here")
    }
}

/// ``HostAccess`` over SSH at the record's `ssh` address.
public struct SSHHostAccess: HostAccess {
    public var secrets: HostKeys

    public init(secrets: HostKeys = HostKeys()) {
        self.secrets = secrets
    }

    public func requestPowerOff(_ record: SwapRecord) -> Bool {
        (try? healthCheck(record, checks: [], bootTimeout: 0).requestPowerOff()) ?? false
    }

    public func requestSync(_ record: SwapRecord) -> Bool {
        (try? healthCheck(record, checks: [], bootTimeout: 0).requestSync()) ?? false
    }

    public func check(_ record: SwapRecord, checks: [Check], bootTimeout: Double,
                      progress: ProgressReporter) throws -> HealthCheck.Outcome {
        try healthCheck(record, checks: checks, bootTimeout: bootTimeout).run(progress: progress)
    }

    public func run(_ record: SwapRecord, script: String, timeout: Double) throws -> (status: Int32, output: String) {
        try healthCheck(record, checks: [], bootTimeout: 0).run(script: script, timeout: timeout)
    }

    public func run(_ record: SwapRecord, script: String, timeout: Double, forwarding: (remote: Int, local: Int)) throws -> (status: Int32, output: String) {
        try healthCheck(record, checks: [], bootTimeout: 0).run(script: script, timeout: timeout, forwarding: forwarding)
    }

    private func healthCheck(_ record: SwapRecord, checks: [Check], bootTimeout: Double) throws -> HealthCheck {
        let (key, _) = try secrets.deployKey()
        let parts = record.ssh.split(separator: ":")
        let knownHosts = try secrets.knownHostsLines(for: record.host, names: [String(parts[0])],
                                                     types: HostIdentity.keyTypes(of: record.host, in: secrets))
        return HealthCheck(hostName: record.host, checks: checks, host: String(parts[0]),
                           port: parts.count > 1 ? Int(parts[1]) ?? 22 : 22, key: key, knownHosts: knownHosts, bootTimeout: bootTimeout)
    }
}
