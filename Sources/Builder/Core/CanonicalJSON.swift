import Crypto
import Foundation
import ImageDSL

/// The canonical JSON form of a system model: keys sorted by their UTF-8 bytes, two-space
/// indentation, integers in decimal, only the escapes JSON requires, a final newline, and no
/// source locations. imagec writes it itself rather than through `JSONEncoder`'s formatting,
/// so a toolchain update cannot change the bytes — and with them every digest.
public enum CanonicalJSON {
    public static func encode(_ model: SystemModel) throws -> Data {
        try encode(value: model.canonical)
    }

    /// Any encodable value in the canonical form.
    public static func encode(value: some Encodable) throws -> Data {
        let json = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
        var text = ""
        write(json, indentation: "", into: &text)
        text += "\n"
        return Data(text.utf8)
    }

    private static func write(_ value: JSONValue, indentation: String, into text: inout String) {
        let inner = indentation + "  "
        switch value {
        case .null: text += "null"
        case .bool(let value): text += value ? "true" : "false"
        case .integer(let value): text += String(value)
        case .number(let value): text += value.isFinite ? "\(value)" : "null"
        case .string(let value): writeString(value, into: &text)
        case .array(let items):
            guard !items.isEmpty else { text += "[]"; return }
            text += "[\n"
            for (index, item) in items.enumerated() {
                text += inner
                write(item, indentation: inner, into: &text)
                text += index == items.count - 1 ? "\n" : ",\n"
            }
            text += indentation + "]"
        case .object(let members):
            guard !members.isEmpty else { text += "{}"; return }
            text += "{\n"
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                text += inner
                writeString(key, into: &text)
                text += ": "
                write(members[key]!, indentation: inner, into: &text)
                text += index == keys.count - 1 ? "\n" : ",\n"
            }
            text += indentation + "}"
        }
    }

    private static func writeString(_ string: String, into text: inout String) {
        text += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\u{08}": text += "\\b"
            case "\u{0C}": text += "\\f"
            case _ where scalar.value < 0x20:
                text += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }

    /// The lowercase hexadecimal SHA-256 of `data`.
    public static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

/// An incremental SHA-256, for files too large to read at once.
public struct CryptoHasher {
    private var hash = SHA256()
    public init() {}
    public mutating func update(_ data: Data) { hash.update(data: data) }
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { hash.update(bufferPointer: bytes) }
    public func finalize() -> String { hash.finalize().map { String(format: "%02x", $0) }.joined() }
}
