import ImageDSL

extension Lab {
    static let slurmController = "slurmctld.lab.example"

    /// A Slurm compute node at `address` on the cluster network, mounting the shared homes.
    static func slurmWorker(address: String) -> OperatingSystem {
        OperatingSystem(inheriting: oneDiskVM(address: address, on: .cluster)) {
            Disk(rootSize: .gibibytes(6))
            Munge()
            SlurmClient(controller: slurmController)
            NFSMount("nfs.lab.example:/export/home", at: "/home")
            Group("slurm-users", gid: 3000)
        }
    }
}
