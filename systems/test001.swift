import ImageDSL

// The debug VM from the GLiCID slides, on the test network.
let system = OperatingSystem(inheriting: Lab.debug(Lab.oneDiskVM(address: "10.50.103.201", on: .testnet))) {
    HostName("test001")
}
