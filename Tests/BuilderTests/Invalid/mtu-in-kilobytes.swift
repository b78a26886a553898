import ImageDSL

// "9k jumbo frames", written as 9.
let system = OperatingSystem {
    HostName("data003")
    Network {
        Interface("eno2", .dhcp, mtu: 9)  // error: MTU 9 of interface 'eno2' is out of range (68–65535)
    }
}
