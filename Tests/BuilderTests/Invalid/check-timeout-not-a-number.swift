import ImageDSL

// A timeout computed from a site setting that was never set.
let slowBoot = Double("")
let system = OperatingSystem {
    HostName("gpu6")
    Check.command("nvidia-smi", timeout: (slowBoot ?? .nan) * 2, name: "gpu")  // error: timeout nan of check 'gpu' is not between 0 and 3600 seconds
    Check.bootCompleted(timeout: .infinity)  // error: timeout inf of check 'boot' is not between 0 and 3600 seconds
}
