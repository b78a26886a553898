import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    SystemdUnit("lab/backup.service")  // error: 'lab/backup.service' is not a systemd unit name
}
