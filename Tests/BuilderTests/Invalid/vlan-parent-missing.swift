import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Network {
        VLAN(1504, on: "eno2", address: "10.50.0.2/16")  // error: the parent interface 'eno2' of VLAN 'eno2.1504' is not declared
    }
}
