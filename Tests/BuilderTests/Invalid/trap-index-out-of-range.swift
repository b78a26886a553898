import ImageDSL

let addresses = ["10.8.0.41/16"]
let system = OperatingSystem {
    HostName("h1")
    Network { Interface("eno1", address: addresses[1]) }  // error: the definition crashed while running: Index out of range
}
