import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Architecture.arm64
    Firmware.both  // error: arm64 systems boot with UEFI only
}
