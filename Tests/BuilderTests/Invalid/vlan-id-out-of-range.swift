import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Network {
        Interface("eno2", .manual)
        VLAN(5000, on: "eno2", address: "10.50.0.2/16")  // error: VLAN id 5000 is out of range
    }
}
