import ImageDSL

// The closing brace was lost when a block was cut out.
let system = OperatingSystem {  // error: this '{' is never closed
    HostName("h1")
    Network {
        Interface("eno1", .dhcp)
    }
