import ImageDSL

let system = OperatingSystem {
    HostName("gpu5")
    Network {
        Interface("eno1", address: "10.50.1.5/16", gateway: "10.50.255.254")
        Route(to: "10.141.0.0/16", via: "10.50.255.2533")  // error: route gateway '10.50.255.2533' is not an IP address
    }
}
