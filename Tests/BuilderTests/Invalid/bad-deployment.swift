import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Deployment(to: .rbd("vm"), disk: "vm 127")  // error: deployment disk 'vm 127' is not a name of letters, digits
}
