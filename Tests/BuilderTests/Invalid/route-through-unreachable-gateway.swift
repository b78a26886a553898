import ImageDSL

let system = OperatingSystem {
    HostName("node12")
    Network {
        Interface("eno1", address: "10.8.0.12/16", gateway: "10.8.0.1")
        Interface("ib0", address: "10.141.0.12/16")
        Route(to: "10.142.0.0/16", via: "10.140.0.1")  // error: route to '10.142.0.0/16' goes through gateway 10.140.0.1, which no interface reaches (10.8.0.12/16, 10.141.0.12/16)
        Route(to: "10.143.0.0/16", via: "10.141.0.1", interface: "eno1")  // error: which no address of interface 'eno1' reaches
        Route(to: "10.144.0.0/16", via: "10.141.0.1")
    }
}
