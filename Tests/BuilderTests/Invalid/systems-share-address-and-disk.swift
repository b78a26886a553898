import ImageDSL

// web2 started as a copy of web1.
let systems = [
    OperatingSystem {
        HostName("web1")
        Network { Interface("ens18", address: "10.50.0.21/16", gateway: "10.50.255.254") }
        Deployment(to: .rbd("vm"), disk: "web1-root", machine: .libvirt("web1"))
    },
    OperatingSystem {
        HostName("web2")
        Network { Interface("ens18", address: "10.50.0.21/16", gateway: "10.50.255.254") }  // error: address 10.50.0.21 of system 'web2' is already system 'web1's
        Deployment(to: .rbd("vm"), disk: "web1-root", machine: .libvirt("web2"))  // error: system 'web2' is deployed to disk 'web1-root' of RBD pool 'vm'
    },
]
