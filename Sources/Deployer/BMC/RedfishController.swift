import Foundation
import ImagecCore

/// A BMC reached through Redfish (DMTF DSP0266): the machine's `ComputerSystem` gives its
/// power state, `Boot` its boot source override, and `Actions/ComputerSystem.Reset` changes
/// its power. Requests go through curl, which checks the BMC's certificate (or does not,
/// where the definition says so: BMCs ship self-signed ones) and reads the password from a
/// private file rather than the command line.
public struct RedfishController: BaseboardController {
    public var root: URL
    public var system: String
    public var credentials: BMCCredentials
    public var verifyCertificate: Bool
    /// Seconds a request may take.
    public var timeout: Double = 30

    public init(root: URL, system: String, credentials: BMCCredentials, verifyCertificate: Bool = true) {
        self.root = root
        self.system = system
        self.credentials = credentials
        self.verifyCertificate = verifyCertificate
    }

    public var description: String { "redfish \(systemURL.absoluteString)" }

    private var systemURL: URL { root.appendingPathComponent("redfish/v1/Systems/\(system)") }

    public func powerState() throws -> PowerState {
        let state = try json("GET", systemURL)["PowerState"] as? String
        switch state {
        case "On", "PoweringOff": return .on
        case "Off", "PoweringOn": return .off
        default: throw BMCError("\(description): PowerState is \(state.map { "'\($0)'" } ?? "missing"), not On or Off")
        }
    }

    public func setBootDevice(_ device: BootDevice, once: Bool) throws {
        let target = device == .network ? "Pxe" : "Hdd"
        _ = try send("PATCH", systemURL, body: ["Boot": ["BootSourceOverrideTarget": target,
                                                         "BootSourceOverrideEnabled": once ? "Once" : "Continuous"]])
        // Some BMCs accept the request and keep the old value: read it back.
        let boot = try json("GET", systemURL)["Boot"] as? [String: Any] ?? [:]
        guard boot["BootSourceOverrideTarget"] as? String == target else {
            throw BMCError("\(description): the boot source is still \(boot["BootSourceOverrideTarget"] as? String ?? "unset") "
                + "after setting it to \(target)")
        }
    }

    public func power(_ action: PowerAction) throws {
        let type: String
        switch action {
        case .on: type = "On"
        case .forceOff: type = "ForceOff"
        case .gracefulShutdown: type = "GracefulShutdown"
        case .forceRestart: type = "ForceRestart"
        }
        // Redfish refuses On for a machine that is on, and a restart of one that is off.
        let state = try powerState()
        if action == .on, state == .on { return }
        if action == .forceOff || action == .gracefulShutdown, state == .off { return }
        let reset = action == .forceRestart && state == .off ? "On" : type
        _ = try send("POST", systemURL.appendingPathComponent("Actions/ComputerSystem.Reset"), body: ["ResetType": reset])
    }

    /// A GET's JSON object.
    private func json(_ method: String, _ url: URL) throws -> [String: Any] {
        let body = try send(method, url, body: nil)
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw BMCError("\(description): \(method) \(url.path): the answer is not a JSON object")
        }
        return object
    }

    /// One request; returns the body of a 2xx answer, and says what any other means.
    private func send(_ method: String, _ url: URL, body: [String: Any]?) throws -> Data {
        var request = Curl(url: url.absoluteString, method: method, headers: ["Accept: application/json"],
                           credentials: Credentials(user: credentials.user, password: credentials.password),
                           verifyCertificate: verifyCertificate, timeout: timeout)
        if let body {
            request.headers.append("Content-Type: application/json")
            request.body = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        }
        let response: Curl.Response
        do {
            response = try request.perform()
        } catch let error as CurlError {
            throw BMCError("\(description): \(method) \(url.path): the BMC does not answer (\(error.reason))")
        }
        let status = response.status, data = response.body
        switch status {
        case 200..<300: return data
        case 401, 403:
            throw BMCError("\(description): the BMC refused user '\(credentials.user)' (HTTP \(status)): check its credentials file")
        case 404:
            throw BMCError("\(description): the BMC has no \(url.path) (HTTP 404): check the system id in the Deployment")
        default:
            let message = ((try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["error"] as? [String: Any])?["message"] as? String
            throw BMCError("\(description): \(method) \(url.path): HTTP \(status): \(message ?? String(decoding: data.prefix(300), as: UTF8.self))")
        }
    }
}
