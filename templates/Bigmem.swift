import ImageDSL

extension Lab {
    /// A bookable big-memory server (bare metal). Reinstalls write the root slot it is not
    /// running; users' data lives on a persistent volume, on its own disk, found by its label,
    /// that reinstalls never touch.
    static let bigmem = OperatingSystem(inheriting: base) {
        Distribution.bookworm
        Disk(rootSize: .gibibytes(8), minimumRootSize: .gibibytes(6), rootSlots: .ab) {
            PersistentVolume("home", mountPoint: "/home", size: .tebibytes(4), fileSystem: .xfs)
            Partition("scratch", mountPoint: "/scratch", size: .gibibytes(2), fileSystem: .ext4)
        }
        Packages("xfsprogs", "htop", "tmux", "build-essential")
        Sysctl(["vm.swappiness": "10"])
        Firewall()
    }
}
