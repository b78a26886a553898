import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Network { Interface("eno1", .dhcp, mtu: 10) }  // error: MTU 10 of interface 'eno1' is out of range
}
