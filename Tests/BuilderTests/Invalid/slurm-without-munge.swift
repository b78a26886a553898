import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    SlurmClient(controller: "ctl.lab.example")  // error: service 'slurm-client' needs service 'munge', which the system does not declare
}
