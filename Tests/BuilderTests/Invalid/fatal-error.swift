import ImageDSL

func lookUp(_ name: String) -> String {
    fatalError("no address for \(name)")  // error: the definition crashed while running: no address for bigmem9
}
let system = OperatingSystem {
    HostName("h1")
    Network { Interface("eno1", address: lookUp("bigmem9")) }
}
