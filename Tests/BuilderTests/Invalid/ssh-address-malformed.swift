import ImageDSL

let system = OperatingSystem {
    HostName("web1")
    Deployment(to: .rbd("vm"), disk: "web1-root", machine: .libvirt("web1"), ssh: "10.8.0.300:2222")  // error: the SSH address '10.8.0.300:2222' names no IPv4 address
}
