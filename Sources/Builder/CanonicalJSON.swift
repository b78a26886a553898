import Crypto
import Foundation
import ImageDSL

/// The canonical JSON form of a system model: sorted keys, two-space indentation, no source
/// locations, a final newline. The same model gives the same bytes on every run and machine;
/// a system's digest is the SHA-256 of these bytes.
public enum CanonicalJSON {
    public static func encode(_ model: SystemModel) throws -> Data {
        try encode(value: model.canonical)
    }

    /// Any value in the canonical style.
    public static func encode(value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0A)
        return data
    }

    /// The lowercase hexadecimal SHA-256 of `data`.
    public static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
