import ImageDSL

let system = OperatingSystem {
    HostName("gpu5")
    Network {
        Interface("eno1", addresses: ["192.168.10.20/24", "192.168.20.255/24"])  // error: '192.168.20.255/24' on interface 'eno1' is the broadcast address
        Interface("eno2", address: "172.16.0.5/31")
    }
}
