import Foundation
import FoundationNetworking

#if canImport(FoundationNetworking)
#endif

/// A Proxmox VE virtual machine, through the Proxmox HTTP API (`/api2/json`) with an API
/// token. Its root disk is a `vm-<vmid>-disk-<n>` image on an RBD storage, which imagec swaps
/// in the Ceph pool behind that storage while the VM is stopped.
///
/// The token file holds one line, `USER@REALM!TOKENID=SECRET` (mode 0600). The API's
/// certificate must be trusted by the system (Proxmox's own CA in the system store).
///
/// This driver is tested against recorded API responses only: no Proxmox runs here.
public struct ProxmoxHypervisor: Hypervisor {
    public var api: URL
    public var node: String
    public var vmid: Int
    private var token: String
    /// Seconds for each API request.
    public var timeout: Double = 30

    public init(api: String, node: String, vmid: Int, tokenFile: String) throws {
        guard let url = URL(string: api), url.scheme == "https" || url.scheme == "http", url.host != nil else {
            throw HypervisorError("the Proxmox API address '\(api)' is not an http(s) URL such as https://pve1.lab:8006")
        }
        let line: String
        do { line = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) } catch {
            throw HypervisorError("cannot read the Proxmox API token \(tokenFile): \(error.localizedDescription)")
        }
        guard line.contains("!"), line.contains("=") else {
            throw HypervisorError("\(tokenFile) is not a Proxmox API token: write one line, USER@REALM!TOKENID=SECRET")
        }
        self.api = url
        self.node = node
        self.vmid = vmid
        self.token = line
    }

    public var description: String { "proxmox:\(api.host ?? "?") \(node)/\(vmid)" }

    private var vmPath: String { "nodes/\(node)/qemu/\(vmid)" }

    public func isRunning() throws -> Bool {
        let status = try request("GET", "\(vmPath)/status/current")
        guard let state = (status as? [String: Any])?["status"] as? String else {
            throw HypervisorError("\(description): the API's status/current answer has no status")
        }
        return state != "stopped"
    }

    public func stop(timeout: Double) throws {
        if try !isRunning() { return }
        // A clean shutdown that Proxmox itself turns into a stop after the timeout.
        let task = try request("POST", "\(vmPath)/status/shutdown", form: ["timeout": String(Int(timeout)), "forceStop": "1"])
        try waitForTask(task, timeout: timeout + 30)
        if try isRunning() { throw HypervisorError("\(description) is still running after its shutdown task") }
    }

    public func powerOff() throws {
        if try !isRunning() { return }
        try waitForTask(try request("POST", "\(vmPath)/status/stop"), timeout: 60)
        if try isRunning() { throw HypervisorError("\(description) is still running after its stop task") }
    }

    /// Not through Proxmox's agent API yet: the swap flushes the file systems over SSH instead.
    public func freezeFileSystems() -> Bool { false }

    public func start() throws {
        if try isRunning() { return }
        try waitForTask(try request("POST", "\(vmPath)/status/start"), timeout: 120)
    }

    public func disks() throws -> [String] {
        guard let configuration = try request("GET", "\(vmPath)/config") as? [String: Any] else {
            throw HypervisorError("\(description): the API's config answer is not an object")
        }
        return Self.diskImages(inConfiguration: configuration)
    }

    /// The volumes of a VM's disks (`scsi0: ceph-vm:vm-127-disk-0,size=32G`), CD-ROMs left out.
    static func diskImages(inConfiguration configuration: [String: Any]) -> [String] {
        let buses = ["scsi", "virtio", "sata", "ide", "efidisk", "tpmstate"]
        return configuration.keys.sorted().compactMap { key -> String? in
            guard let bus = buses.first(where: { key.hasPrefix($0) }), Int(key.dropFirst(bus.count)) != nil,
                  let value = configuration[key] as? String, !value.contains("media=cdrom") else { return nil }
            let volume = value.split(separator: ",").first ?? ""
            return volume.split(separator: ":", maxSplits: 1).last.map(String.init)
        }
    }

    /// Waits for a task (`UPID:…`) to stop; throws if it did not end `OK`.
    private func waitForTask(_ task: Any, timeout: Double) throws {
        guard let upid = task as? String, upid.hasPrefix("UPID:") else { throw HypervisorError("\(description): the API did not answer with a task id") }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let status = try request("GET", "nodes/\(node)/tasks/\(upid)/status") as? [String: Any] ?? [:]
            if status["status"] as? String == "stopped" {
                let exit = status["exitstatus"] as? String ?? "?"
                guard exit == "OK" else { throw HypervisorError("\(description): task \(upid) failed: \(exit)") }
                return
            }
            guard Date() < deadline else { throw HypervisorError("\(description): task \(upid) still running after \(Int(timeout)) s") }
            Thread.sleep(forTimeInterval: 1)
        }
    }

    /// One API call; returns its `data`.
    private func request(_ method: String, _ path: String, form: [String: String] = [:]) throws -> Any {
        var request = URLRequest(url: api.appendingPathComponent("api2/json/\(path)"), timeoutInterval: timeout)
        request.httpMethod = method
        request.setValue("PVEAPIToken=\(token)", forHTTPHeaderField: "Authorization")
        if method == "POST" {
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(form.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&").utf8)
        }
        final class Box: @unchecked Sendable { var data: Data?; var response: URLResponse?; var error: Error? }
        let box = Box(), done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            box.data = data; box.response = response; box.error = error
            done.signal()
        }.resume()
        done.wait()
        if let error = box.error { throw HypervisorError("\(description): \(method) \(path): \(error.localizedDescription)") }
        let status = (box.response as? HTTPURLResponse)?.statusCode ?? 0
        let body = box.data ?? Data()
        guard (200..<300).contains(status) else {
            let reason = status == 401 ? "the API token was refused" : String(decoding: body.prefix(300), as: UTF8.self)
            throw HypervisorError("\(description): \(method) \(path): HTTP \(status): \(reason)")
        }
        guard let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let data = json["data"] else {
            throw HypervisorError("\(description): \(method) \(path): the answer is not {\"data\": …}")
        }
        return data
    }
}
