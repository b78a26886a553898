import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Network { Interface("eno1", address: "10.8.0.300/16") }  // error: '10.8.0.300/16' on interface 'eno1' is not an address with a prefix length
}
