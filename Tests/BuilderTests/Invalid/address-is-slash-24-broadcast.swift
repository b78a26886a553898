import ImageDSL

// Copy-paste from the subnet table: the last address of the /24 went into the host's.
let system = OperatingSystem {
    HostName("node255")
    Network {
        Interface("eno1", address: "10.60.3.255/24", gateway: "10.60.3.254")  // error: '10.60.3.255/24' on interface 'eno1' is the broadcast address of its subnet
    }
}
