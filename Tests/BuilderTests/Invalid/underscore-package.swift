import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Packages("r_base_core")  // error: 'r_base_core' is not a valid Debian package name
}
