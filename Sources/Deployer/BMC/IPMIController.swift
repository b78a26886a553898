import Foundation
import ImagecCore

/// A BMC reached through IPMI over LAN (`ipmitool -I lanplus`): `chassis power` and
/// `chassis bootdev`. The password is handed to ipmitool in a private file (`-f`), never on
/// its command line.
public struct IPMIController: BaseboardController {
    public var host: String
    public var port: Int
    public var credentials: BMCCredentials
    /// Seconds ipmitool may take per request (it retries on its own).
    public var timeout: Double = 30

    public init(host: String, port: Int = 623, credentials: BMCCredentials) {
        self.host = host
        self.port = port
        self.credentials = credentials
    }

    public var description: String { "ipmi \(host):\(port)" }

    public func powerState() throws -> PowerState {
        let output = try ipmitool(["chassis", "power", "status"])
        if output.contains("is on") { return .on }
        if output.contains("is off") { return .off }
        throw BMCError("\(description): cannot read the power state from '\(output.trimmingCharacters(in: .whitespacesAndNewlines))'")
    }

    public func setBootDevice(_ device: BootDevice, once: Bool) throws {
        // Without `persistent`, IPMI's boot flags hold for the next boot only.
        _ = try ipmitool(["chassis", "bootdev", device == .network ? "pxe" : "disk"] + (once ? [] : ["options=persistent"]))
    }

    public func power(_ action: PowerAction) throws {
        let state = try powerState()
        switch action {
        case .on: if state == .off { _ = try ipmitool(["chassis", "power", "on"]) }
        case .forceOff: if state == .on { _ = try ipmitool(["chassis", "power", "off"]) }
        case .gracefulShutdown: if state == .on { _ = try ipmitool(["chassis", "power", "soft"]) }
        case .forceRestart: _ = try ipmitool(["chassis", "power", state == .on ? "reset" : "on"])
        }
    }

    private func ipmitool(_ command: [String]) throws -> String {
        try withPrivateFolder("imagec-ipmi") { folder in try ipmitool(command, in: folder) }
    }

    private func ipmitool(_ command: [String], in folder: URL) throws -> String {
        let password = folder.appendingPathComponent("password")
        try Data(credentials.password.utf8).write(to: password)
        let arguments = ["-I", "lanplus", "-H", host, "-p", String(port), "-U", credentials.user, "-f", password.path, "-N", "2", "-R", "3"]
            + command
        let result = try Command(executable: "/usr/bin/ipmitool", arguments: arguments, package: "ipmitool")
            .run(timeout: timeout, outputFile: folder.appendingPathComponent("output.txt"))
        let output = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.status == 0, !result.timedOut else {
            // A wrong password and a BMC that does not answer look alike to ipmitool.
            if output.contains("Unable to establish IPMI v2") || output.contains("RAKP") {
                throw BMCError("\(description): the BMC opened no session for user '\(credentials.user)': its credentials file is wrong, "
                    + "or nothing answers IPMI at \(host):\(port)")
            }
            throw BMCError("\(description): ipmitool \(command.joined(separator: " ")) failed"
                + (result.timedOut ? " (no answer in \(Int(timeout)) s)" : "") + (output.isEmpty ? "" : ": \(output)"))
        }
        return result.output
    }
}
