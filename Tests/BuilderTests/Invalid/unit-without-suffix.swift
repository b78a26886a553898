import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    SystemdUnit("backup", contents: "[Service]\nExecStart=/bin/true\n")  // error: 'backup' is not a systemd unit name
}
