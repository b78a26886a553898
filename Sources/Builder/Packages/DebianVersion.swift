

/// A Debian package version (`[epoch:]upstream[-revision]`), ordered as
/// `dpkg --compare-versions` orders them: `1.0~rc1 < 1.0 < 1.0-1 < 1.0+deb12u1 < 1:0.9`.
public struct DebianVersion: Comparable, CustomStringConvertible, Sendable {
    public let epoch: Int
    public let upstream: String
    public let revision: String
    public let description: String

    /// `nil` for text that is not a version (empty, a bad epoch, an upstream not starting with a digit).
    public init?(_ text: String) {
        var rest = Substring(text)
        var epoch = 0
        if let colon = rest.firstIndex(of: ":") {
            guard let number = Int(rest[..<colon]), number >= 0 else { return nil }
            epoch = number
            rest = rest[rest.index(after: colon)...]
        }
        var revision = ""
        if let dash = rest.lastIndex(of: "-") {
            revision = String(rest[rest.index(after: dash)...])
            rest = rest[..<dash]
        }
        guard let first = rest.first, first.isASCII, first.isNumber,
              rest.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".+~-:".contains($0)) }) else { return nil }
        self.epoch = epoch
        self.upstream = String(rest)
        self.revision = revision
        self.description = text
    }

    public static func < (a: DebianVersion, b: DebianVersion) -> Bool { compare(a, b) < 0 }
    public static func == (a: DebianVersion, b: DebianVersion) -> Bool { compare(a, b) == 0 }

    static func compare(_ a: DebianVersion, _ b: DebianVersion) -> Int {
        if a.epoch != b.epoch { return a.epoch < b.epoch ? -1 : 1 }
        let upstream = compare(part: a.upstream, b.upstream)
        return upstream != 0 ? upstream : compare(part: a.revision, b.revision)
    }

    /// dpkg's `verrevcmp`: alternately a non-digit run compared by ``order(_:)``, then a digit
    /// run compared as a number.
    static func compare(part a: String, _ b: String) -> Int {
        var x = Array(a.utf8)[...], y = Array(b.utf8)[...]
        while !x.isEmpty || !y.isEmpty {
            // Non-digit prefixes.
            while (x.first.map { !isDigit($0) } ?? false) || (y.first.map { !isDigit($0) } ?? false) {
                let p = x.first.map { isDigit($0) ? 0 : order($0) } ?? 0
                let q = y.first.map { isDigit($0) ? 0 : order($0) } ?? 0
                if p != q { return p < q ? -1 : 1 }
                if let c = x.first, !isDigit(c) { x = x.dropFirst() }
                if let c = y.first, !isDigit(c) { y = y.dropFirst() }
            }
            // Digit runs, as numbers.
            while x.first == UInt8(ascii: "0") { x = x.dropFirst() }
            while y.first == UInt8(ascii: "0") { y = y.dropFirst() }
            var difference = 0
            while let c = x.first, isDigit(c), let d = y.first, isDigit(d) {
                if difference == 0 { difference = Int(c) - Int(d) }
                x = x.dropFirst(); y = y.dropFirst()
            }
            if let c = x.first, isDigit(c) { return 1 }
            if let d = y.first, isDigit(d) { return -1 }
            if difference != 0 { return difference < 0 ? -1 : 1 }
        }
        return 0
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// `~` sorts before everything, even the end of the part; letters before other characters.
    private static func order(_ c: UInt8) -> Int {
        if c == UInt8(ascii: "~") { return -1 }
        if (c >= 65 && c <= 90) || (c >= 97 && c <= 122) { return Int(c) }
        return Int(c) + 256
    }
}
