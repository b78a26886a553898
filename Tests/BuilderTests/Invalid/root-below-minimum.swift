import ImageDSL

let base = OperatingSystem {
    Disk(minimumRootSize: .gibibytes(6))
}
let system = OperatingSystem(inheriting: base) {
    HostName("h1")
    Disk(rootSize: .gibibytes(4))  // error: root size 4 GiB is smaller than the minimum of 6 GiB declared at
}
