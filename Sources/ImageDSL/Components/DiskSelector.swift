/// How a physical machine's disk is found: by what the disk says of itself, never by the
/// kernel's name for it (`/dev/sda`, `/dev/nvme0n1`), which can change from one boot to the next.
///
/// ```swift
/// DiskSelector.serial("S4EWNX0R123456")
/// DiskSelector.wwn("0x5002538e40a1b2c3")
/// DiskSelector.byPath("pci-0000:3b:00.0-nvme-1")
/// ```
public enum DiskSelector: Codable, Hashable, Sendable {
    /// The disk's serial number, as `lsblk -o SERIAL` prints it.
    case serial(String)
    /// The disk's World Wide Name, as `lsblk -o WWN` prints it (`0x…` or `eui.…`).
    case wwn(String)
    /// The disk's link under `/dev/disk/by-path/`: the port it is plugged into.
    case byPath(String)

    /// What the value is, for messages: `serial S4EWNX0R123456`.
    public var description: String {
        switch self {
        case .serial(let serial): "serial \(serial)"
        case .wwn(let wwn): "WWN \(wwn)"
        case .byPath(let path): "/dev/disk/by-path/\(path)"
        }
    }

    /// What is wrong with the value, if anything.
    public func validate() -> [String] {
        switch self {
        case .serial(let value), .wwn(let value):
            if value.isEmpty || !value.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "/" }) {
                return ["the disk \(self.description) is not a disk's \(self.kind): one word of printable characters"]
            }
        case .byPath(let path):
            if path.hasPrefix("/dev/") {
                return ["the disk by-path '\(path)' is the link's name under /dev/disk/by-path/, not a device path"]
            }
            if path.isEmpty || !path.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "/" }) {
                return ["the disk by-path '\(path)' is not a link name under /dev/disk/by-path/"]
            }
        }
        return []
    }

    private var kind: String {
        switch self {
        case .serial: "serial number"
        case .wwn: "World Wide Name"
        case .byPath: "by-path link"
        }
    }
}
