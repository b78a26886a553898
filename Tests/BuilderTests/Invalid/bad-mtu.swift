import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Network { Interface("eth0", .dhcp, mtu: 10) }  // error: MTU 10 of interface 'eth0' is out of range
}
