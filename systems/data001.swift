import ImageDSL

// A service VM whose data survives reinstalls, on a second disk.
let system = OperatingSystem(inheriting: Lab.twoDiskVM(address: "10.50.103.210", on: .testnet, dataSize: .gibibytes(20))) {
    HostName("data001")
    Packages("postgresql")
    ModifyService(OpenSSH.self) { $0.extraConfig = ["AllowGroups adm"] }
}
