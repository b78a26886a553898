import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Network {
        Interface("eno1", .dhcp)
        NameServers("10.8.0.1:53")  // error: name server '10.8.0.1:53' is not an IP address
    }
}
