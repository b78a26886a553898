import ImageDSL

// Jumbo frames on the storage VLAN, but the card under it was left at the default.
let system = OperatingSystem {
    HostName("data002")
    Network {
        Interface("eno2", .dhcp)
        VLAN(1504, on: "eno2", address: "10.50.0.2/16", mtu: 9000)  // error: MTU 9000 of VLAN 'eno2.1504' exceeds the MTU 1500 of its parent 'eno2' (the default)
        Interface("eno3", .dhcp, mtu: 9000)
        VLAN(1505, on: "eno3", address: "10.51.0.2/16", mtu: 9000)
    }
}
