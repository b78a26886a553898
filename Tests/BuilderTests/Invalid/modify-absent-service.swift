import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    ModifyService(OpenSSH.self) { $0.port = 2222 }  // error: cannot modify service 'openssh': the system has no such service
}
