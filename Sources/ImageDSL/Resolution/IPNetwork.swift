/// An IP address as its bytes (4 for IPv4, 16 for IPv6), parsed from the forms
/// ``AddressSyntax`` accepts.
struct IPAddress: Equatable {
    var bytes: [UInt8]

    init?(_ text: some StringProtocol) {
        if AddressSyntax.isIPv4(text) {
            bytes = text.split(separator: ".").map { UInt8($0)! }
        } else if AddressSyntax.isIPv6(text) {
            let halves = text.parts(separatedBy: "::")
            func groups(_ half: String) -> [UInt8] {
                guard !half.isEmpty else { return [] }
                return half.split(separator: ":").flatMap { part -> [UInt8] in
                    if AddressSyntax.isIPv4(part) { return part.split(separator: ".").map { UInt8($0)! } }
                    let value = UInt16(part, radix: 16)!
                    return [UInt8(value >> 8), UInt8(value & 0xff)]
                }
            }
            let head = groups(halves[0]), tail = halves.count == 2 ? groups(halves[1]) : []
            bytes = head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
        } else {
            return nil
        }
    }

    var isIPv4: Bool { bytes.count == 4 }
    /// fe80::/10, reachable on every link.
    var isLinkLocal: Bool { bytes.count == 16 && bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 }
}

/// A network with its prefix length, from an interface's address such as `10.8.0.42/16`.
struct IPNetwork {
    var address: IPAddress
    var prefix: Int
    var text: String

    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard AddressSyntax.isCIDR(text), let address = IPAddress(parts[0]) else { return nil }
        self.address = address
        self.prefix = Int(parts[1])!
        self.text = text
    }

    /// Whether `other` is in this network.
    func contains(_ other: IPAddress) -> Bool {
        guard other.bytes.count == address.bytes.count else { return false }
        return (0..<address.bytes.count * 8).prefix(prefix).allSatisfy { bit(address, $0) == bit(other, $0) }
    }

    /// Whether the host part of the address is all zeros (the network's own address) or all ones
    /// (its broadcast address); IPv4 networks with room for hosts only.
    var isNetworkOrBroadcast: (network: Bool, broadcast: Bool) {
        guard address.isIPv4, (1...30).contains(prefix) else { return (false, false) }
        let host = (prefix..<32).map { bit(address, $0) }
        return (host.allSatisfy { !$0 }, host.allSatisfy { $0 })
    }

    private func bit(_ address: IPAddress, _ index: Int) -> Bool {
        address.bytes[index / 8] & (0x80 >> UInt8(index % 8)) != 0
    }
}
