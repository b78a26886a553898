import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    OpenSSH(port: 70000)  // error: OpenSSH port 70000 is not between 1 and 65535
}
