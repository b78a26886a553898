import ImageDSL

let system = OperatingSystem {
    HostName("gpu4")
    Network {
        Interface("eno1", address: "10.50.1.4/16", gateway: "gw.lab.example")  // error: gateway 'gw.lab.example' of interface 'eno1' is not an IP address
    }
}
