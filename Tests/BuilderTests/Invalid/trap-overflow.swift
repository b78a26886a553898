import ImageDSL

let base: UInt8 = 250
let system = OperatingSystem {
    HostName("node\(base + 10)")  // error: the definition crashed while running: arithmetic overflow
}
