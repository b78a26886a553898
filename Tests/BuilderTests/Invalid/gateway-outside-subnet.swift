import ImageDSL

// Copied from bigmem1, whose network is 10.8.0.0/16; this machine moved to a /24.
let system = OperatingSystem {
    HostName("bigmem3")
    Network {
        Interface("eno1", address: "10.8.3.14/24", gateway: "10.8.0.1")  // error: gateway 10.8.0.1 of interface 'eno1' is outside its subnet 10.8.3.14/24
    }
}
