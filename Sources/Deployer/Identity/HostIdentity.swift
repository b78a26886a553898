import Foundation
import Pools

/// What makes a host the same host after every reinstall, written into its clone at each
/// deployment and never into an image or the store: its SSH host keys (ed25519, made once,
/// plus any other type or CA certificate `imagec known-hosts` made for it) and its
/// `/etc/machine-id` (journald, and networkd's DHCP client identifier, derive from it); and
/// imagec's deploy key, with which health checks log in as root after a swap.
public struct HostIdentity: Sendable {
    public var host: String
    /// The files to write, by their path in the image.
    public var files: [File]

    /// A file of the identity.
    public struct File: Hashable, Sendable {
        public var path: String
        public var contents: Data
        public var mode: Int32

        public init(path: String, contents: Data, mode: Int32) {
            self.path = path
            self.contents = contents
            self.mode = mode
        }
    }

    /// An identity made of `files`.
    public init(host: String, files: [File]) {
        self.host = host
        self.files = files
    }

    /// The host's identity from `secrets`, making what it does not have yet.
    public init(host: String, secrets: HostKeys = HostKeys()) throws {
        self.host = host
        let folder = secrets.directory.appendingPathComponent("hosts/\(host)")
        var files: [File] = []
        var certificates: [String] = []
        for pair in try secrets.keys(for: host, types: Self.keyTypes(of: host, in: secrets)) {
            let name = pair.privateKey.lastPathComponent
            files.append(File(path: "/etc/ssh/\(name)", contents: try Data(contentsOf: pair.privateKey), mode: 0o600))
            files.append(File(path: "/etc/ssh/\(name).pub", contents: Data((pair.publicKey + "\n").utf8), mode: 0o644))
            let certificate = folder.appendingPathComponent("\(name)-cert.pub")
            if let contents = try? Data(contentsOf: certificate) {
                files.append(File(path: "/etc/ssh/\(name)-cert.pub", contents: contents, mode: 0o644))
                certificates.append("HostCertificate /etc/ssh/\(name)-cert.pub")
            }
        }
        if !certificates.isEmpty {
            files.append(File(path: "/etc/ssh/sshd_config.d/imagec-host-certificates.conf",
                              contents: Data(("# Written by imagec at deployment.\n" + certificates.joined(separator: "\n") + "\n").utf8),
                              mode: 0o644))
        }
        files.append(File(path: "/etc/machine-id", contents: Data((try secrets.machineID(for: host) + "\n").utf8), mode: 0o444))
        // Read before the image's own sshd settings; root keeps its own keys too.
        files.append(File(path: "/etc/ssh/imagec_deploy_keys", contents: Data((try secrets.deployKey().publicKey + "\n").utf8), mode: 0o644))
        files.append(File(path: "/etc/ssh/sshd_config.d/00-imagec-deploy.conf", contents: Data("""
            # Written by imagec at deployment: its health checks log in as root with imagec's deploy key.
            Match User root
                PermitRootLogin prohibit-password
                AuthorizedKeysFile /etc/ssh/authorized_keys/%u .ssh/authorized_keys /etc/ssh/imagec_deploy_keys

            """.utf8), mode: 0o644))
        self.files = files
    }

    /// The key types a host has: ed25519 always, and any other `imagec known-hosts --type` made.
    public static func keyTypes(of host: String, in secrets: HostKeys) -> [String] {
        let folder = secrets.directory.appendingPathComponent("hosts/\(host)")
        return ["ed25519"] + HostKeys.types.filter { type in
            type != "ed25519" && FileManager.default.fileExists(atPath: folder.appendingPathComponent("ssh_host_\(type)_key").path)
        }
    }

    /// Writes the identity into `disk`'s root file system (an appliance VM, 15–30 s under TCG).
    /// - Parameter emulate: run the appliance under TCG.
    public func inject(into disk: DiskLocation, emulate: Bool) throws {
        let editor = try DiskEditor(disk, emulate: emulate)
        for file in files { try editor.write(file.path, file.contents, mode: file.mode) }
        try editor.finish()
    }
}

extension HostIdentity {
    /// The identity as the network installer receives it from `imagec serve`:
    /// `{"files": [{"path", "mode", "contents" in base64}]}`.
    public var installerDocument: Data {
        get throws {
            let files = files.map { ["path": $0.path, "mode": Int($0.mode), "contents": $0.contents.base64EncodedString()] as [String: Any] }
            return try JSONSerialization.data(withJSONObject: ["files": files], options: [.sortedKeys])
        }
    }
}
