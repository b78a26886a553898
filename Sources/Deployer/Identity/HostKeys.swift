import Crypto
import Foundation
import ImagecCore

/// Each host's SSH host keys, generated once and kept in a secrets directory outside the
/// store (`<secrets>/hosts/<host>/ssh_host_<type>_key` and `.pub`), so every reinstall of a
/// host presents the same keys. The directory must be private: mode 0700, keys 0600.
public struct HostKeys: Sendable {
    /// `$IMAGEC_SECRETS`, else `/var/lib/imagec/secrets`.
    public static var defaultDirectory: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["IMAGEC_SECRETS"] ?? "/var/lib/imagec/secrets")
    }

    /// Key types, as `ssh-keygen -t` names them.
    public static let types = ["ed25519", "ecdsa", "rsa"]

    public let directory: URL

    public init(directory: URL = HostKeys.defaultDirectory) {
        self.directory = directory
    }

    /// A host's key pair of one type.
    public struct KeyPair: Sendable {
        public var type: String
        public var privateKey: URL
        public var publicKey: String
    }

    /// The host's keys of `types`, made now for those it does not have yet.
    /// - Throws: ``IdentityError`` for a secrets directory others can read, or a host name that is not one.
    public func keys(for host: String, types: [String] = ["ed25519"]) throws -> [KeyPair] {
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-.".contains($0)) }), !host.hasPrefix(".") else {
            throw IdentityError("'\(host)' is not a host name")
        }
        for type in types where !Self.types.contains(type) {
            throw IdentityError("unknown SSH host key type '\(type)' (known: \(Self.types.joined(separator: ", ")))")
        }
        try prepare()
        let folder = directory.appendingPathComponent("hosts/\(host)")
        try makePrivateFolder(folder)
        return try types.map { type in
            let key = folder.appendingPathComponent("ssh_host_\(type)_key")
            if !FileManager.default.fileExists(atPath: key.path) { try generate(type, at: key, host: host) }
            try checkPrivate(key)
            let publicKey = try String(contentsOf: key.appendingPathExtension("pub"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            return KeyPair(type: type, privateKey: key, publicKey: publicKey)
        }
    }

    /// imagec's own key (`<secrets>/deploy_key`, ed25519, made once), with which health checks
    /// log in to deployed machines as root: the private key's path and the public key line.
    public func deployKey() throws -> (key: URL, publicKey: String) {
        try prepare()
        let key = directory.appendingPathComponent("deploy_key")
        if !FileManager.default.fileExists(atPath: key.path) { try generate("ed25519", at: key, host: "imagec-deploy") }
        try checkPrivate(key)
        let publicKey = try String(contentsOf: key.appendingPathExtension("pub"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return (key, publicKey)
    }

    /// The host's machine ID (`/etc/machine-id`: 32 lowercase hexadecimal digits), made once.
    public func machineID(for host: String) throws -> String {
        _ = try keys(for: host, types: [])  // checks the name and the directory
        let file = directory.appendingPathComponent("hosts/\(host)/machine-id")
        if !FileManager.default.fileExists(atPath: file.path) {
            var bytes = [UInt8](repeating: 0, count: 16)
            guard getentropy(&bytes, bytes.count) == 0 else { throw IdentityError("cannot draw random bytes for \(host)'s machine ID") }
            let temporary = file.deletingLastPathComponent().appendingPathComponent(".tmp-\(getpid())-machine-id")
            FileManager.default.createFile(atPath: temporary.path, contents: Data((bytes.map { String(format: "%02x", $0) }.joined() + "\n").utf8),
                                           attributes: [.posixPermissions: 0o600])
            guard rename(temporary.path, file.path) == 0 else {
                throw IdentityError("cannot keep \(file.path): \(String(cString: strerror(errno)))")
            }
        }
        try checkPrivate(file)
        let id = try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard id.count == 32, id.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw IdentityError("\(file.path) is not a machine ID (32 lowercase hexadecimal digits): remove it to make a new one")
        }
        return id
    }

    /// `known_hosts` lines for a host reached by `names` (its host name, addresses…).
    public func knownHostsLines(for host: String, names: [String], types: [String] = ["ed25519"]) throws -> [String] {
        try keys(for: host, types: types).map { pair in
            let parts = pair.publicKey.split(separator: " ")
            guard parts.count >= 2 else { throw IdentityError("\(pair.privateKey.path).pub is not a public key: remove both files to make new ones") }
            return "\(names.joined(separator: ",")) \(parts[0]) \(parts[1])"
        }
    }

    /// The host's keys as `ssh-keygen -l` prints them: `256 SHA256:… (ED25519)`.
    public func fingerprints(for host: String, types: [String] = ["ed25519"]) throws -> [String] {
        try keys(for: host, types: types).map { pair in
            let parts = pair.publicKey.split(separator: " ")
            guard parts.count >= 2, let blob = Data(base64Encoded: String(parts[1])) else {
                throw IdentityError("\(pair.privateKey.path).pub is not a public key: remove both files to make new ones")
            }
            let digest = Data(SHA256.hash(data: blob)).base64EncodedString().replacingOccurrences(of: "=", with: "")
            let bits = ["ed25519": "256", "ecdsa": "256"][pair.type] ?? ""
            return "\(bits.isEmpty ? "" : bits + " ")SHA256:\(digest) (\(pair.type.uppercased()))"
        }
    }

    /// Signs the host's public keys with the lab's certificate authority (`ssh-keygen -s`), valid
    /// for `names`: users who trust the CA once (`@cert-authority`) trust every host. Returns the
    /// certificates (`ssh_host_<type>_key-cert.pub`, beside the keys).
    public func certify(host: String, names: [String], authority: URL, types: [String] = ["ed25519"]) throws -> [URL] {
        guard FileManager.default.isReadableFile(atPath: authority.path) else { throw IdentityError("cannot read the CA key \(authority.path)") }
        return try keys(for: host, types: types).map { pair in
            _ = try Command(executable: "/usr/bin/ssh-keygen", arguments: [
                "-q", "-s", authority.path, "-I", host, "-h", "-n", names.joined(separator: ","), pair.privateKey.appendingPathExtension("pub").path,
            ], package: "openssh-client").output(timeout: 60) { result in
                IdentityError("ssh-keygen could not sign \(host)'s \(pair.type) key with \(authority.path): \(result.output)")
            }
            return pair.privateKey.deletingLastPathComponent().appendingPathComponent("ssh_host_\(pair.type)_key-cert.pub")
        }
    }

    /// Creates the secrets directory (0700), or refuses one that others can read or write.
    func prepare() throws {
        try makePrivateFolder(directory)
        try makePrivateFolder(directory.appendingPathComponent("hosts"))
    }

    private func makePrivateFolder(_ folder: URL) throws {
        if !FileManager.default.fileExists(atPath: folder.path) {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        var info = stat()
        guard stat(folder.path, &info) == 0 else { throw IdentityError("cannot read \(folder.path): \(String(cString: strerror(errno)))") }
        if info.st_mode & 0o077 != 0 {
            throw IdentityError("the secrets directory \(folder.path) is open to others (mode \(String(info.st_mode & 0o777, radix: 8))): "
                + "run `chmod 700 \(folder.path)`")
        }
    }

    private func checkPrivate(_ key: URL) throws {
        var info = stat()
        guard stat(key.path, &info) == 0 else { throw IdentityError("cannot read \(key.path): \(String(cString: strerror(errno)))") }
        if info.st_mode & 0o077 != 0 {
            throw IdentityError("the host key \(key.path) is open to others (mode \(String(info.st_mode & 0o777, radix: 8))): run `chmod 600 \(key.path)`")
        }
    }

    /// Keys are made one at a time: hosts deployed side by side all need the deploy key.
    private static let generating = NSLock()

    /// `ssh-keygen` into a temporary name, then renamed: a key is never half-written, and one
    /// another thread made meanwhile is kept.
    private func generate(_ type: String, at key: URL, host: String) throws {
        Self.generating.lock()
        defer { Self.generating.unlock() }
        if FileManager.default.fileExists(atPath: key.path) { return }
        let temporary = key.deletingLastPathComponent().appendingPathComponent(".tmp-\(getpid())-\(UUID().uuidString.prefix(8))-\(key.lastPathComponent)")
        defer {
            try? FileManager.default.removeItem(at: temporary)
            try? FileManager.default.removeItem(at: temporary.appendingPathExtension("pub"))
        }
        _ = try Command(executable: "/usr/bin/ssh-keygen", arguments: [
            "-q", "-t", type, "-N", "", "-C", host.hasPrefix("imagec-") ? host : "root@\(host)", "-f", temporary.path,
        ] + (type == "rsa" ? ["-b", "3072"] : []), package: "openssh-client").output(timeout: 60) { result in
            IdentityError("ssh-keygen could not make a \(type) key for \(host): \(result.output)")
        }
        chmod(temporary.path, 0o600)
        guard rename(temporary.appendingPathExtension("pub").path, key.appendingPathExtension("pub").path) == 0,
              rename(temporary.path, key.path) == 0 else {
            throw IdentityError("cannot keep the host key \(key.path): \(String(cString: strerror(errno)))")
        }
    }
}
