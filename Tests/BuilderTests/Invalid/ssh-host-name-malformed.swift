import ImageDSL

let system = OperatingSystem {
    HostName("web2")
    Deployment(to: .rbd("vm"), disk: "web2-root", machine: .libvirt("web2"), ssh: "web2_admin.lab")  // error: the SSH address 'web2_admin.lab' names no valid host name
}
