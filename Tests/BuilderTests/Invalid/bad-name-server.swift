import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Network {
        NameServers("dns.lab.example")  // error: name server 'dns.lab.example' is not an IP address
    }
}
