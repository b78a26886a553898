import ImageDSL

let system = OperatingSystem {
    HostName("web2")
    Network {
        Interface("ens18", address: "2001:db8:10::20/64", gateway: "2001:db8:11::1")  // error: gateway 2001:db8:11::1 of interface 'ens18' is outside its subnet
    }
}
