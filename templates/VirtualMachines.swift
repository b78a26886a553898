import ImageDSL

extension Lab {
    /// A VM with one disk on `subnet`: the template most service VMs inherit.
    static func oneDiskVM(address: String, on subnet: Subnet) -> OperatingSystem {
        OperatingSystem(inheriting: base) {
            Disk(rootSize: .gibibytes(4), minimumRootSize: .gibibytes(3))
            // One card, whatever slot the hypervisor gives it (ens18 on Proxmox): eth0.
            network("eth0", address: address, on: subnet)
            QemuGuestAgent()
            RemoveService(Chrony.self)
            Timesyncd(servers: ntpServers)
            KernelArguments("quiet", "net.ifnames=0")
        }
    }

    /// A VM with a second disk holding a persistent volume, kept across reinstalls and
    /// snapshotted before each deployment.
    static func twoDiskVM(address: String, on subnet: Subnet, dataSize: ByteCount, mountPoint: String = "/data")
        -> OperatingSystem
    {
        OperatingSystem(inheriting: oneDiskVM(address: address, on: subnet)) {
            Disk {
                PersistentVolume("data", mountPoint: mountPoint, size: dataSize, fileSystem: .xfs, snapshotBeforeDeploy: true)
            }
            Packages("xfsprogs")
        }
    }

    /// The debug variant: verbose boot, debugging tools, password-less console for admins.
    static func debug(_ system: OperatingSystem) -> OperatingSystem {
        OperatingSystem(inheriting: system) {
            RemoveKernelArguments("quiet")
            KernelArguments("systemd.log_level=info")
            Packages("gdb", "strace", "tcpdump", "htop", "git", "vim")
        }
    }
}
