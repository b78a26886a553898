import Foundation
import ImagecCore
import ImageDSL

/// The boot server's state, in a directory that `imagec deploy` writes and `imagec serve`
/// reads at every request, so either can restart at any time:
///
/// - `hosts/<mac>`: the host name of a machine imagec deploys (its MAC, lower case);
/// - `deploys/<token>.json`: a deploy (`PendingDeploy`);
/// - `pending/<mac>`: the token of the machine's deploy in progress through the network, if any;
/// - `in-place/<token>`: a deploy in progress in place (the running system's agent fetches it);
/// - `identity/<token>.json`: the host's identity (`{"files": [{"path", "mode", "contents" in base64}]}`),
///   renamed `.taken` as it is handed over, then removed;
/// - `reports/<token>.jsonl`: what the installer reported (`InstallerReport`, one per line);
/// - `slots/<host>.json`: what each root slot of the host holds, and which is the default (`HostSlots`).
///
/// Every file is written whole under a temporary name and renamed into place.
public struct BootState: Sendable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    /// `$IMAGEC_BOOT_STATE`, else `/var/lib/imagec/boot-server`.
    public static var standard: BootState {
        BootState(directory: URL(fileURLWithPath: ProcessInfo.processInfo.environment["IMAGEC_BOOT_STATE"] ?? "/var/lib/imagec/boot-server"))
    }

    // MARK: - Written by deploy

    /// Records that `mac` is `host`'s boot NIC: the server then tells it to boot from its disk
    /// when no deploy is pending, instead of not knowing it.
    public func register(host: String, mac: String) throws {
        try write(Data((host + "\n").utf8), to: "hosts/\(try Self.checked(mac: mac))")
    }

    /// Makes `deploy` the machine's pending deploy, handing over `identity` once.
    public func begin(_ deploy: PendingDeploy, identity: Data) throws {
        try prepare(deploy, identity: identity)
        try activate(deploy)
    }

    /// Records `deploy` and the identity it hands over, without making it pending: a machine
    /// that boots from the network meanwhile still boots from its disk.
    public func prepare(_ deploy: PendingDeploy, identity: Data) throws {
        let mac = try Self.checked(mac: deploy.mac)
        try write(identity, to: "identity/\(try Self.checked(token: deploy.token)).json")
        try write(try CanonicalJSON.encode(value: deploy), to: "deploys/\(deploy.token).json")
        try register(host: deploy.host, mac: mac)
    }

    /// Makes a prepared deploy its machine's pending one: its next network boot installs it.
    public func activate(_ deploy: PendingDeploy) throws {
        try write(Data((deploy.token + "\n").utf8), to: "pending/\(try Self.checked(mac: deploy.mac))")
    }

    /// Opens a prepared deploy to the running system's agent (a deploy in place): its files are
    /// served, but the machine's network boot still boots its disk.
    public func openInPlace(_ deploy: PendingDeploy) throws {
        try write(Data((deploy.host + "\n").utf8), to: "in-place/\(try Self.checked(token: deploy.token))")
    }

    /// Whether the identity of `deploy` is still to be handed over.
    public func holdsIdentity(of deploy: PendingDeploy) -> Bool {
        FileManager.default.fileExists(atPath: url("identity/\(deploy.token).json").path)
    }

    /// The deploys recorded for `host`'s swap `swap`, the latest first.
    public func deploys(host: String, swap: String) -> [PendingDeploy] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url("deploys").path)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
            .compactMap { name -> (PendingDeploy, Date)? in
                guard let deploy = deploy(token: String(name.dropLast(5))), deploy.host == host, deploy.swap == swap else { return nil }
                let modified = (try? FileManager.default.attributesOfItem(atPath: url("deploys/\(name)").path)[.modificationDate] as? Date) ?? .distantPast
                return (deploy, modified)
            }
            .sorted { $0.1 > $1.1 }.map(\.0)
    }

    /// What `host`'s root slots hold, as last recorded; empty for a host never installed.
    public func slots(of host: String) throws -> HostSlots {
        guard let data = FileManager.default.contents(atPath: url("slots/\(try Self.checked(host: host)).json").path) else { return HostSlots() }
        do { return try JSONDecoder().decode(HostSlots.self, from: data) } catch {
            throw BootServerError("\(url("slots/\(host).json").path) is not a record of root slots: \(error)")
        }
    }

    /// Records what `host`'s root slots hold.
    public func record(_ slots: HostSlots, of host: String) throws {
        try write(try CanonicalJSON.encode(value: slots), to: "slots/\(try Self.checked(host: host)).json")
    }

    /// The machine's deploy is over (done or given up): it boots from its disk again, and the
    /// identity, if not taken, is removed.
    public func finish(token: String) throws {
        guard let deploy = deploy(token: token) else { return }
        if pendingToken(mac: deploy.mac) == token { unlink(url("pending/\(deploy.mac)").path) }
        unlink(url("in-place/\(token)").path)
        unlink(url("identity/\(token).json").path)
    }

    // MARK: - Read by the server

    /// The host name `mac` was registered with.
    public func host(mac: String) -> String? {
        guard let mac = try? Self.checked(mac: mac), let data = FileManager.default.contents(atPath: url("hosts/\(mac)").path) else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The machine's pending deploy, if any.
    public func pending(mac: String) -> PendingDeploy? {
        pendingToken(mac: mac).flatMap { deploy(token: $0) }
    }

    /// The deploy `token` names, pending or not.
    public func deploy(token: String) -> PendingDeploy? {
        guard let token = try? Self.checked(token: token), let data = FileManager.default.contents(atPath: url("deploys/\(token).json").path) else {
            return nil
        }
        return try? JSONDecoder().decode(PendingDeploy.self, from: data)
    }

    /// Whether `deploy` is its machine's pending deploy.
    public func isPending(_ deploy: PendingDeploy) -> Bool {
        pendingToken(mac: deploy.mac) == deploy.token
    }

    /// Whether `deploy` is in progress: pending, or open in place. Only then are its files served.
    public func isOpen(_ deploy: PendingDeploy) -> Bool {
        isPending(deploy) || FileManager.default.fileExists(atPath: url("in-place/\(deploy.token)").path)
    }

    /// The identity of a deploy in progress, the first time only.
    public func takeIdentity(of deploy: PendingDeploy) -> Data? {
        guard isOpen(deploy) else { return nil }
        let archive = url("identity/\(deploy.token).json"), taken = url("identity/\(deploy.token).taken")
        // The rename is the once: of two requests, one renames, the other finds nothing.
        guard rename(archive.path, taken.path) == 0 else { return nil }
        defer { unlink(taken.path) }
        return FileManager.default.contents(atPath: taken.path)
    }

    /// Appends an installer's report to its deploy's.
    public func append(_ report: InstallerReport, token: String) throws {
        guard deploy(token: token) != nil else { throw BootServerError("no deploy has token \(token.prefix(8))…") }
        try FileManager.default.createDirectory(at: url("reports"), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(report)
        line.append(UInt8(ascii: "\n"))
        let descriptor = open(url("reports/\(token).jsonl").path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw BootServerError("cannot write \(url("reports/\(token).jsonl").path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        // One write per line: lines from concurrent requests never interleave.
        let written = line.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count else { throw BootServerError("cannot write the report of \(token.prefix(8))…") }
    }

    /// What the installer of `token` reported, in order.
    public func reports(token: String) -> [InstallerReport] {
        guard let token = try? Self.checked(token: token),
              let data = FileManager.default.contents(atPath: url("reports/\(token).jsonl").path) else { return [] }
        return data.split(separator: UInt8(ascii: "\n")).compactMap { try? JSONDecoder().decode(InstallerReport.self, from: Data($0)) }
    }

    // MARK: - Names

    /// `mac` in lower case with colons, or an error if it is not a MAC address.
    public static func checked(mac: String) throws -> String {
        guard let normal = BareMetal.normalized(mac: mac) else { throw BootServerError("'\(mac)' is not a MAC address") }
        return normal
    }

    /// `token` if it is one: 64 hex digits (so never a path).
    public static func checked(token: String) throws -> String {
        guard token.wholeMatch(of: /[0-9a-f]{64}/) != nil else { throw BootServerError("'\(token.prefix(16))' is not a deploy token") }
        return token
    }

    /// `host` if it can name a file: a host name.
    static func checked(host: String) throws -> String {
        guard host.wholeMatch(of: /[A-Za-z0-9][A-Za-z0-9.-]*/) != nil else { throw BootServerError("'\(host)' is not a host name") }
        return host
    }

    private func pendingToken(mac: String) -> String? {
        guard let mac = try? Self.checked(mac: mac), let data = FileManager.default.contents(atPath: url("pending/\(mac)").path) else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func url(_ path: String) -> URL { directory.appendingPathComponent(path) }

    private func write(_ data: Data, to path: String) throws {
        let target = url(path)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).\(getpid())")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600]),
              rename(temporary.path, target.path) == 0 else {
            throw BootServerError("cannot write \(target.path): \(String(cString: strerror(errno)))")
        }
    }
}

/// The boot server cannot listen, its state cannot be read or written, or a name in it is not one.
public struct BootServerError: CategorizedError, CustomStringConvertible {
    public var description: String
    public var failureKind: FailureKind { .environment }
    public init(_ description: String) { self.description = description }
}
