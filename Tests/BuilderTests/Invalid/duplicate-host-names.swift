import ImageDSL

let systems = [
    OperatingSystem { HostName("node1") },
    OperatingSystem { HostName("node1") },  // error: host name 'node1' is declared by two systems
]
