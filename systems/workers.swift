import ImageDSL

// Ten Slurm compute nodes, slurmd-worker-001 … 010, at 10.141.1.1 … 10.141.1.10.
let systems = (1...10).map { number in
    OperatingSystem(inheriting: Lab.slurmWorker(address: "10.141.1.\(number)")) {
        HostName("slurmd-worker-\(number.zeroPadded(to: 3))")
    }
}
