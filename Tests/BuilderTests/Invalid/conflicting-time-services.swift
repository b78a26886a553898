import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Chrony(servers: ["ntp.lab.example"])
    Timesyncd(servers: ["ntp.lab.example"])  // error: service 'timesyncd' conflicts with service 'chrony'
}
