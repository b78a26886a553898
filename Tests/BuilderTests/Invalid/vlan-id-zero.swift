import ImageDSL

let system = OperatingSystem {
    HostName("data004")
    Network {
        Interface("eno2", .dhcp)
        VLAN(0, on: "eno2", address: "10.52.0.4/16")  // error: VLAN id 0 is out of range (1–4094)
    }
}
