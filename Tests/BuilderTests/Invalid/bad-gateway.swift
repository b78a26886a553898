import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Network { Interface("eno1", address: "10.8.0.42/16", gateway: "10.8.255") }  // error: gateway '10.8.255' of interface 'eno1' is not an IP address
}
