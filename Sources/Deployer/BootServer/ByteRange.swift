/// A `Range: bytes=…` request header, as HTTP range requests have it (RFC 9110 §14): one
/// range, `first-last`, `first-` or `-suffix`. Several ranges in one request are not served.
public enum ByteRange: Equatable, Sendable {
    case from(Int, through: Int?)
    case suffix(Int)

    /// Parses the header's value; `nil` if it is not a single byte range.
    public init?(header: String) {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        if parts[0].isEmpty {
            guard let suffix = Int(parts[1]), suffix > 0 else { return nil }
            self = .suffix(suffix)
        } else {
            guard let first = Int(parts[0]), first >= 0 else { return nil }
            if parts[1].isEmpty {
                self = .from(first, through: nil)
            } else {
                guard let last = Int(parts[1]), last >= first else { return nil }
                self = .from(first, through: last)
            }
        }
    }

    /// The bytes it names of a resource of `length` bytes; `nil` if none (416).
    public func resolve(length: Int) -> Range<Int>? {
        switch self {
        case .from(let first, let last):
            guard first < length else { return nil }
            return first..<min((last ?? length - 1) + 1, length)
        case .suffix(let count):
            guard length > 0 else { return nil }
            return max(0, length - count)..<length
        }
    }
}
