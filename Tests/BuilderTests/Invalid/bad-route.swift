import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Network {
        Interface("eno1", .dhcp)
        Route(to: "10.141.0.0", via: "10.50.255.253")  // error: route destination '10.141.0.0' is not a network
    }
}
