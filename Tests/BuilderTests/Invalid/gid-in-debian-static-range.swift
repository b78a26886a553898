import ImageDSL

let system = OperatingSystem {
    HostName("login1")
    Group("lab", gid: 77)  // error: gid 77 of 'lab' is in 0–99, which Debian allocates itself
}
