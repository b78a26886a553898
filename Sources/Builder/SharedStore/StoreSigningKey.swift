import Crypto
import Foundation
import ImagecCore

/// The lab's ed25519 key that signs what a host pushes to the shared store. Its public half,
/// `ed25519:<base64>`, is what a site lists in `SharedStore(…, trusting:)`.
public struct StoreSigningKey: Sendable {
    /// The private key's 32-byte seed.
    private let seed: Data
    private var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: seed) }

    /// `$IMAGEC_SECRETS/store-signing.key` (default /var/lib/imagec/secrets).
    public static var defaultFile: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["IMAGEC_SECRETS"] ?? "/var/lib/imagec/secrets")
            .appendingPathComponent("store-signing.key")
    }

    /// Reads the key (its 32-byte seed in base64), or makes it when `create` and there is none.
    /// A key file others can read is refused.
    public init(file: URL = Self.defaultFile, create: Bool = false) throws {
        if !FileManager.default.fileExists(atPath: file.path) {
            guard create else {
                throw BuildEnvironmentError("no store signing key at \(file.path): make it with `imagec store key`")
            }
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let key = Curve25519.Signing.PrivateKey()
            let descriptor = open(file.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard descriptor >= 0 else { throw BuildEnvironmentError("cannot write \(file.path): \(String(cString: strerror(errno)))") }
            let text = key.rawRepresentation.base64EncodedString() + "\n"
            _ = text.withCString { Foundation.write(descriptor, $0, strlen($0)) }
            close(descriptor)
        }
        var info = stat()
        guard stat(file.path, &info) == 0, info.st_mode & 0o077 == 0 else {
            throw BuildEnvironmentError("the store signing key \(file.path) is readable by others: chmod 600 \(file.path)")
        }
        let text = try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let seed = Data(base64Encoded: text), (try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)) != nil else {
            throw BuildEnvironmentError("\(file.path) is not a store signing key (32 bytes in base64)")
        }
        self.seed = seed
    }

    /// `ed25519:<base64 of the public key>`.
    public var publicKey: String { "ed25519:" + key.publicKey.rawRepresentation.base64EncodedString() }

    func signature(for data: Data) throws -> String { try key.signature(for: data).base64EncodedString() }

    /// Whether `signature` is `publicKey`'s signature of `data`.
    static func isValid(_ signature: String, of data: Data, by publicKey: String) -> Bool {
        guard publicKey.hasPrefix("ed25519:"), let raw = Data(base64Encoded: String(publicKey.dropFirst(8))),
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw), let bytes = Data(base64Encoded: signature)
        else { return false }
        return key.isValidSignature(bytes, for: data)
    }

    /// A short, stable name of a public key for messages: the first 16 hex digits of its SHA-256.
    public static func fingerprint(_ publicKey: String) -> String {
        "SHA256:" + CanonicalJSON.sha256(Data(publicKey.utf8)).prefix(16)
    }
}
