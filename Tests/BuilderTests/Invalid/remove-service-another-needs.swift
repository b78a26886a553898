import ImageDSL

// A worker turned into a login node: munge "is not needed on a login node".
let system = OperatingSystem(inheriting: Lab.slurmWorker(address: "10.141.0.90")) {
    HostName("login2")
    RemoveService(Munge.self)  // error: removing service 'munge' leaves service 'slurm-client' without it, and it needs it
}
