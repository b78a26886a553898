internal import Foundation

/// An OpenSSH public key as it appears in `authorized_keys`, parsed the way sshd reads it:
/// optional options, the key type, the base64 blob (whose own type must agree) and a comment.
public struct SSHPublicKey: Hashable, Sendable {
    /// `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`…
    public var type: String
    /// The key's size in bits: the RSA modulus, the curve's size, 256 for Ed25519.
    public var bits: Int
    public var comment: String

    /// The types sshd accepts on Debian 12 (OpenSSH 9.2, where DSA is turned off).
    public static let types = [
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    ]

    /// Why a line is not a key sshd would accept.
    public struct Problem: Error, Hashable, Sendable {
        public var reason: String
        /// A key sshd accepts but that is almost always a mistake (RSA under 2048 bits).
        public var isWarning = false
    }

    /// Parses one `authorized_keys` line.
    /// - Throws: ``Problem`` saying what is wrong, in words an admin acts on.
    public init(parsing line: String) throws(Problem) {
        if line.contains("PRIVATE KEY") {
            throw Problem(reason: "this is a private key: give the public one (the .pub file, or ssh-keygen -y -f KEY)")
        }
        if line.contains(where: \.isNewline) {
            throw Problem(reason: "it spans several lines: give one key per string")
        }
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        // Options (from="…",no-pty …) may come first: the type is the first field that is one.
        guard let index = fields.firstIndex(where: { Self.types.contains($0) || $0 == "ssh-dss" }) else {
            if fields.contains(where: { $0.hasPrefix("AAAA") }) {
                throw Problem(reason: "the key type (such as ssh-ed25519) is missing before the key")
            }
            throw Problem(reason: "it is not an OpenSSH public key (type, base64 key, comment)")
        }
        let declared = fields[index]
        if declared == "ssh-dss" {
            throw Problem(reason: "DSA keys are refused by the OpenSSH of Debian 12: make an Ed25519 key (ssh-keygen -t ed25519)")
        }
        guard index + 1 < fields.count else { throw Problem(reason: "the key itself is missing after '\(declared)'") }
        guard let blob = Data(base64Encoded: fields[index + 1]) else {
            throw Problem(reason: "the key after '\(declared)' is not base64: it was cut or altered when copied")
        }
        var reader = WireReader(data: blob)
        guard let inner = reader.string().map({ String(decoding: $0, as: UTF8.self) }) else {
            throw Problem(reason: "the key after '\(declared)' is truncated")
        }
        guard inner == declared else {
            throw Problem(reason: "it says '\(declared)' but holds an '\(inner)' key: the type was changed by hand")
        }
        type = declared
        comment = fields.dropFirst(index + 2).joined(separator: " ")
        switch declared {
        case "ssh-rsa":
            guard reader.string() != nil, let modulus = reader.string() else { throw Problem(reason: "the RSA key is truncated") }
            let bytes = modulus.drop { $0 == 0 }
            bits = bytes.first.map { (bytes.count - 1) * 8 + (8 - $0.leadingZeroBitCount) } ?? 0
        case "ssh-ed25519", "sk-ssh-ed25519@openssh.com":
            guard reader.string()?.count == 32 else { throw Problem(reason: "the Ed25519 key is truncated or not 32 bytes") }
            bits = 256
        default:
            guard let curve = reader.string(), reader.string() != nil else { throw Problem(reason: "the ECDSA key is truncated") }
            bits = Int(String(decoding: curve, as: UTF8.self).dropFirst("nistp".count)) ?? 0
        }
        guard reader.isAtEnd || declared.hasPrefix("sk-") else {
            throw Problem(reason: "the key has bytes after its end: two keys were pasted together")
        }
        if declared == "ssh-rsa", bits < 1024 {
            throw Problem(reason: "the RSA key has \(bits) bits; the OpenSSH of Debian 12 refuses RSA keys under 1024 bits")
        }
        if declared == "ssh-rsa", bits < 2048 {
            throw Problem(reason: "the RSA key has only \(bits) bits: make a new one (ssh-keygen -t ed25519)", isWarning: true)
        }
    }

    /// The length-prefixed strings of SSH's wire format (RFC 4251).
    private struct WireReader {
        let data: Data
        var offset = 0

        var isAtEnd: Bool { offset == data.count }

        mutating func string() -> Data? {
            guard data.count - offset >= 4 else { return nil }
            let start = data.startIndex + offset
            let length = data[start..<start + 4].reduce(0) { $0 << 8 | Int($1) }
            guard length <= data.count - offset - 4 else { return nil }
            offset += 4 + length
            return data[start + 4..<start + 4 + length]
        }
    }
}
