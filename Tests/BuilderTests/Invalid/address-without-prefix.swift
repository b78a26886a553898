import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Network { Interface("eno1", address: "10.8.0.42", gateway: "10.8.255.254") }  // error: '10.8.0.42' on interface 'eno1' is not an address with a prefix length
}
