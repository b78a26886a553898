import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Network { VLAN(1504, on: "eno2", gateway: "10.50.255.254"); Interface("eno2", .manual) }  // error: interface 'eno2.1504' is configured by DHCP
}
