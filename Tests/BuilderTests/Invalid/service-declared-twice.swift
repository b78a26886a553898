import ImageDSL

let base = OperatingSystem { OpenSSH() }
let system = OperatingSystem(inheriting: base) {
    HostName("h1")
    OpenSSH(port: 2222)  // error: service 'openssh' is declared twice
}
