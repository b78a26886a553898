import Foundation
import ImagecCore

/// The Debian Security Tracker's JSON (`tracker/data/json`), as imagec reads it: keyed by
/// source package, then CVE, then release, each with its `status` (`resolved`, `open`,
/// `undetermined`), `fixed_version` (`"0"`: never affected), `urgency` and `nodsa`.
///
/// The real file is about 40 MB; only the sources asked for are parsed: the others' values are
/// skipped by scanning their brackets, so an audit of a fleet reads it in a fraction of a second.
public struct SecurityTracker: Sendable {
    /// One CVE's state in one release.
    public struct Status: Sendable, Equatable {
        public var status: String
        public var fixedVersion: String?
        public var urgency: String
        /// The tracker's note that no advisory (DSA) is planned, if it has one.
        public var nodsa: String?
    }

    /// For each source asked for: CVE → release → status.
    public var sources: [String: [String: [String: Status]]]
    /// The SHA-256 of the file read, for the report.
    public var sha256: String

    /// Reads `data`, keeping `wanted` sources.
    ///
    /// - Throws: ``AuditError`` naming what is wrong with a file that is not the tracker's JSON.
    public init(data: Data, name: String, wanted: Set<String>) throws {
        sha256 = CanonicalJSON.sha256(data)
        guard !data.isEmpty else { throw AuditError("\(name) is empty: give the Security Tracker's JSON (tracker/data/json)") }
        var sources: [String: [String: [String: Status]]] = [:]
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var scanner = JSONScanner(bytes: raw, name: name)
            try scanner.expect(UInt8(ascii: "{"))
            if try scanner.consumeIf(UInt8(ascii: "}")) { return }
            repeat {
                let key = try scanner.string()
                try scanner.expect(UInt8(ascii: ":"))
                let start = scanner.offset
                try scanner.skipValue()
                guard wanted.contains(key) else { continue }
                let value = Data(raw[start..<scanner.offset])
                guard let cves = try? JSONSerialization.jsonObject(with: value) as? [String: Any] else {
                    throw AuditError("\(name): the entry of source package '\(key)' is not an object of CVEs")
                }
                var parsed: [String: [String: Status]] = [:]
                for (cve, details) in cves {
                    guard let releases = (details as? [String: Any])?["releases"] as? [String: Any] else { continue }
                    for (release, entry) in releases {
                        guard let entry = entry as? [String: Any], let status = entry["status"] as? String else {
                            throw AuditError("\(name): \(key) \(cve) \(release) has no status")
                        }
                        parsed[cve, default: [:]][release] = Status(
                            status: status, fixedVersion: entry["fixed_version"] as? String, urgency: entry["urgency"] as? String ?? "not yet assigned",
                            nodsa: entry["nodsa"] as? String ?? (entry["nodsa"] != nil ? "yes" : nil))
                    }
                }
                sources[key] = parsed
            } while try scanner.consumeIf(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"))
            scanner.skipSpace()
            guard scanner.offset == raw.count else { throw scanner.error("something follows the top-level object") }
        }
        self.sources = sources
    }
}

/// Just enough of a JSON reader to walk the top-level object and skip values whole.
struct JSONScanner {
    let bytes: UnsafeRawBufferPointer
    let name: String
    var offset = 0

    init(bytes: UnsafeRawBufferPointer, name: String) {
        self.bytes = bytes
        self.name = name
    }

    func error(_ what: String) -> AuditError {
        AuditError("\(name) is not the Security Tracker's JSON: \(what) at byte \(offset)")
    }

    mutating func skipSpace() {
        while offset < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[offset]) { offset += 1 }
    }

    mutating func expect(_ byte: UInt8) throws {
        skipSpace()
        guard offset < bytes.count, bytes[offset] == byte else {
            throw error(offset < bytes.count ? "expected '\(Character(UnicodeScalar(byte)))'" : "the file ends early")
        }
        offset += 1
    }

    mutating func consumeIf(_ byte: UInt8) throws -> Bool {
        skipSpace()
        guard offset < bytes.count, bytes[offset] == byte else { return false }
        offset += 1
        return true
    }

    /// A string, decoded (escapes are rare in keys: they are decoded through JSONSerialization).
    mutating func string() throws -> String {
        skipSpace()
        let start = offset
        try skipString()
        let raw = Data(bytes[start..<offset])
        if !raw.contains(UInt8(ascii: "\\")) { return String(decoding: raw.dropFirst().dropLast(), as: UTF8.self) }
        guard let decoded = try? JSONSerialization.jsonObject(with: raw, options: .fragmentsAllowed) as? String else { throw error("a bad string") }
        return decoded
    }

    mutating func skipString() throws {
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw error("expected a string") }
        offset += 1
        while offset < bytes.count {
            switch bytes[offset] {
            case UInt8(ascii: "\\"): offset += 2
            case UInt8(ascii: "\""): offset += 1; return
            default: offset += 1
            }
        }
        throw error("a string never ends")
    }

    /// Skips one value: an object or array by its brackets (strings skipped whole), else a scalar.
    mutating func skipValue() throws {
        skipSpace()
        guard offset < bytes.count else { throw error("the file ends early") }
        switch bytes[offset] {
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while offset < bytes.count {
                switch bytes[offset] {
                case UInt8(ascii: "\""): try skipString(); continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { offset += 1; return }
                default: break
                }
                offset += 1
            }
            throw error("an object never ends")
        default:
            while offset < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains(bytes[offset]) { offset += 1 }
        }
    }
}
