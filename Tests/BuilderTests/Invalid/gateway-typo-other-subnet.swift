import ImageDSL

// 10.50.255.254 was meant: one digit off puts the gateway in another subnet.
let system = OperatingSystem {
    HostName("gpu3")
    Network {
        Interface("eno1", address: "10.50.1.3/16", gateway: "10.5.255.254")  // error: gateway 10.5.255.254 of interface 'eno1' is outside its subnet 10.50.1.3/16
    }
}
