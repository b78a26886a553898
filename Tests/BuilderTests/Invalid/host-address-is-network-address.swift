import ImageDSL

let system = OperatingSystem {
    HostName("gpu4")
    Network {
        Interface("eno1", address: "10.8.0.0/16", gateway: "10.8.0.1")  // error: '10.8.0.0/16' on interface 'eno1' is the network address of its subnet
    }
}
