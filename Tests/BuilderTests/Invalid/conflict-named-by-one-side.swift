import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Timesyncd(servers: ["ntp.lab.example"])
    Chrony(servers: ["ntp.lab.example"])  // error: service 'chrony' conflicts with service 'timesyncd'
}
