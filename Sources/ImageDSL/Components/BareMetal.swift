/// A physical machine that imagec reinstalls through its BMC and the network boot
/// (`imagec serve`): its BMC, the MAC address of the NIC it boots from, and its root disk,
/// which holds the two root slots. Its other disks, and every partition the system does not
/// declare, are never written.
///
/// ```swift
/// Deployment(bareMetal: BareMetal(bmc: .redfish("https://bigmem2-bmc.lab.example", system: "System.Embedded.1"),
///                                 bootMAC: "b8:ca:3a:6e:12:40", rootDisk: .serial("S4EWNX0R123456")))
/// ```
public struct BareMetal: Codable, Hashable, Sendable {
    public var bmc: BaseboardManagement
    /// The boot NIC's MAC address, lower case with colons: `b8:ca:3a:6e:12:40`.
    public var bootMAC: String
    public var rootDisk: DiskSelector

    public init(bmc: BaseboardManagement, bootMAC: String, rootDisk: DiskSelector) {
        self.bmc = bmc
        self.bootMAC = bootMAC.lowercased().replacingOccurrences(of: "-", with: ":")
        self.rootDisk = rootDisk
    }

    /// `mac` as imagec writes MAC addresses (lower case, colons: `b8:ca:3a:6e:12:40`; `-` is
    /// taken for `:`), or `nil` if it is not one.
    public static func normalized(mac: String) -> String? {
        let normal = mac.lowercased().replacingOccurrences(of: "-", with: ":")
        return normal.wholeMatch(of: /[0-9a-f]{2}(:[0-9a-f]{2}){5}/) == nil ? nil : normal
    }

    /// What is wrong with the value, if anything.
    public func validate() -> [String] {
        var problems = bmc.validate() + rootDisk.validate()
        if Self.normalized(mac: bootMAC) == nil {
            problems.append("the boot MAC '\(bootMAC)' is not a MAC address such as b8:ca:3a:6e:12:40")
        } else if let first = UInt8(bootMAC.prefix(2), radix: 16), first & 1 == 1 {
            problems.append("the boot MAC '\(bootMAC)' is a multicast address, which no NIC has")
        }
        return problems
    }
}
