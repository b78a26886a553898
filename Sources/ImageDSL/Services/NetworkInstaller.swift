/// imagec's network installer, as a service of a system built as an initramfs
/// (`ImageFormat.initramfs`): the agent (`imagec-install`, see ``agent``) and the programs it
/// runs, started once the network is up, its output on the console. A physical machine boots
/// it from `imagec serve` to have its inactive root slot written.
///
/// ```swift
/// OperatingSystem {
///     ImageFormat.initramfs
///     Network { Interface("eth0", .dhcp) }
///     NetworkInstaller()
/// }
/// ```
public struct NetworkInstaller: Service {
    public static let name = "network-installer"

    public init() {}

    public var extensions: [ServiceExtension] {
        ServiceExtension.packages("python3", "kexec-tools", "mtools", "fdisk", "e2fsprogs", "util-linux", "udev")
        ServiceExtension.file(File("/usr/local/sbin/imagec-install", mode: 0o755, contents: Self.agent))
        ServiceExtension.unit(SystemdUnit("imagec-install.service", contents: """
            [Unit]
            Description=imagec installer: write the new image into the inactive root slot
            Wants=network-online.target
            After=network-online.target systemd-udev-settle.service
            Wants=systemd-udev-settle.service

            [Service]
            Type=oneshot
            ExecStart=/usr/local/sbin/imagec-install
            StandardOutput=journal+console
            StandardError=journal+console

            [Install]
            WantedBy=multi-user.target

            """))
        ServiceExtension.enable("systemd-networkd-wait-online.service")
        // The boot NIC is eth0 whatever the machine names its ports.
        ServiceExtension.kernelArguments("net.ifnames=0")
    }
}
