import ImageDSL

extension Lab {
    /// imagec's network installer: what a physical machine boots from `imagec serve` to be
    /// reinstalled. A kernel and an initramfs, run from memory; the boot NIC by DHCP.
    static let installer = OperatingSystem {
        Distribution.bookworm
        ImageFormat.initramfs
        HostName("imagec-installer")
        Network { Interface("eth0", .dhcp) }
        SerialConsole()
        NetworkInstaller()
    }
}
