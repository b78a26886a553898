import Foundation
import ImageDSL

/// How the test machine's network card reaches the guest's SSH server.
///
/// Best, the image's own configuration does it: the card gets the name the image's first
/// interface has (`eno1` from an SMBIOS onboard-device entry, `enp0s5` from its PCI slot, `eth0`
/// when the image turns predictable names off) and QEMU's user network is laid out as the
/// image's subnet (its gateway is QEMU's host address), or gives it a DHCP lease. Otherwise a
/// network file for the card is injected; systemd-networkd may start before the file exists
/// (it does not wait for local file systems, the file's writer does), so that is the fallback.
public struct GuestNetwork: Equatable, Sendable {
    /// The address SSH is forwarded to.
    var guestAddress: String
    /// Options of QEMU's user network (`net=…,host=…`), besides the forward.
    var userNetwork: [String]
    /// Options of the network card (`addr=…`) and extra QEMU arguments (`-smbios type=41,…`).
    var cardOptions: [String]
    var extraArguments: [String]
    /// Whether a network file must be injected (the image's own configuration cannot apply).
    var needsInjection: Bool

    /// QEMU's arguments for the card and its user network, SSH forwarded from 127.0.0.1:`sshPort`.
    func qemuArguments(sshPort: Int, mac: String) -> [String] {
        ["-netdev", (["user", "id=n0", "restrict=on"] + userNetwork + ["hostfwd=tcp:127.0.0.1:\(sshPort)-\(guestAddress):22"]).joined(separator: ","),
         "-device", (["virtio-net-pci", "netdev=n0", "mac=\(mac)"] + cardOptions).joined(separator: ",")] + extraArguments
    }

    /// The arguments that put a machine running `model`'s image on a network like its own,
    /// reachable over SSH at 127.0.0.1:`sshPort` (for libvirt domains in tests, through
    /// `<qemu:commandline>`); nil when the image's own network cannot apply.
    public static func qemuArguments(for model: SystemModel, sshPort: Int, mac: String = "52:54:00:1c:ec:02") -> [String]? {
        let network = GuestNetwork(for: model)
        return network.needsInjection ? nil : network.qemuArguments(sshPort: sshPort, mac: mac)
    }

    static let fallback = GuestNetwork(guestAddress: "10.0.2.15", userNetwork: [], cardOptions: [], extraArguments: [], needsInjection: true)

    init(guestAddress: String, userNetwork: [String], cardOptions: [String], extraArguments: [String], needsInjection: Bool) {
        self.guestAddress = guestAddress
        self.userNetwork = userNetwork
        self.cardOptions = cardOptions
        self.extraArguments = extraArguments
        self.needsInjection = needsInjection
    }

    /// The image's own network when the test machine can reproduce its first interface.
    init(for model: SystemModel) {
        self = .fallback
        guard let interface = model.network.interfaces.first else { return }
        var cardOptions: [String] = [], extra: [String] = []
        let name = interface.name
        if name == "eth0", model.kernelArguments.contains("net.ifnames=0") {
            // Any card is eth0.
        } else if name.hasPrefix("eno"), let index = Int(name.dropFirst(3)), index >= 1 {
            cardOptions = ["id=net0"]
            extra = ["-smbios", "type=41,designation=Onboard LAN,instance=\(index),kind=ethernet,pcidev=net0"]
        } else if name.hasPrefix("enp0s"), let slot = Int(name.dropFirst(5)), (3...30).contains(slot) {
            cardOptions = ["addr=0x\(String(slot, radix: 16))"]
        } else {
            return
        }
        if interface.dhcp {
            self = GuestNetwork(guestAddress: "10.0.2.15", userNetwork: [], cardOptions: cardOptions, extraArguments: extra, needsInjection: false)
            return
        }
        // A static IPv4 address: the user network becomes its subnet, with the gateway as the host.
        guard let cidr = interface.addresses.first(where: { !$0.contains(":") }), let slash = cidr.firstIndex(of: "/"),
              let prefix = Int(cidr[cidr.index(after: slash)...]), (8...29).contains(prefix),
              let address = Self.ipv4(String(cidr[..<slash])) else { return }
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
        let network = address & mask
        let gateway = interface.gateway.flatMap(Self.ipv4).flatMap { $0 & mask == network && $0 != address ? $0 : nil }
            ?? (network + 1 == address ? network + 2 : network + 1)
        // QEMU's DNS and DHCP addresses must differ from the host's (and the guest's).
        let free = (3..<64).map { network + UInt32($0) }.filter { $0 != gateway && $0 != address && $0 & mask == network }
        guard free.count >= 2 else { return }
        self = GuestNetwork(
            guestAddress: Self.text(address),
            userNetwork: ["net=\(Self.text(network))/\(prefix)", "host=\(Self.text(gateway))", "dns=\(Self.text(free[0]))",
                          "dhcpstart=\(Self.text(free[1]))"],
            cardOptions: cardOptions, extraArguments: extra, needsInjection: false)
    }

    static func ipv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".").compactMap { UInt32($0) }
        guard parts.count == 4, parts.allSatisfy({ $0 < 256 }), text.split(separator: ".").count == 4 else { return nil }
        return parts.reduce(0) { $0 << 8 | $1 }
    }

    static func text(_ address: UInt32) -> String {
        [24, 16, 8, 0].map { String((address >> UInt32($0)) & 0xff) }.joined(separator: ".")
    }
}
