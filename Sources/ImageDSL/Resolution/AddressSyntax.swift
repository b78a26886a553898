/// Checks of IP addresses and networks, written out so the DSL needs no networking library.
enum AddressSyntax {
    static func isIPv4(_ text: some StringProtocol) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCIIDigit) && Int(part)! <= 255
                && !(part.count > 1 && part.first == "0")
        }
    }

    static func isIPv6(_ text: some StringProtocol) -> Bool {
        guard text.contains(":"), text.count <= 45 else { return false }
        let halves = text.parts(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        var groups = 0
        for (index, half) in halves.enumerated() where !half.isEmpty {
            let parts = half.split(separator: ":", omittingEmptySubsequences: false)
            for (position, part) in parts.enumerated() {
                if index == halves.count - 1, position == parts.count - 1, isIPv4(part) {
                    groups += 2
                    continue
                }
                guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit) else { return false }
                groups += 1
            }
        }
        return halves.count == 2 ? groups < 8 : groups == 8
    }

    static func isIP(_ text: some StringProtocol) -> Bool { isIPv4(text) || isIPv6(text) }

    /// `10.8.0.42/16` or `2001:db8::2/64`.
    static func isCIDR(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let prefix = Int(parts[1]), parts[1].allSatisfy(\.isASCIIDigit) else { return false }
        if isIPv4(parts[0]) { return (0...32).contains(prefix) }
        if isIPv6(parts[0]) { return (0...128).contains(prefix) }
        return false
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension StringProtocol {
    func parts(separatedBy separator: String) -> [String] {
        var result: [String] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            result.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        result.append(String(rest))
        return result
    }
}
