import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Network {
        Interface("eno1", address: "10.8.0.42/16", gateway: "10.8.255.254")
        Interface("eno2", address: "10.50.0.42/16", gateway: "10.50.255.254")  // error: interfaces 'eno1' and 'eno2' both have a gateway
    }
}
