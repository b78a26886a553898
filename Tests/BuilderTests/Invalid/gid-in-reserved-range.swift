import ImageDSL

let system = OperatingSystem {
    HostName("login1")
    Group("hpc", gid: 65000)  // error: gid 65000 of 'hpc' is in 60000–65533, which Debian reserves
}
