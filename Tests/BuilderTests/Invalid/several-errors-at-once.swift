import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Packages("Samtools")  // error: 'Samtools' is not a valid Debian package name
    File("motd", contents: "")  // error: file path 'motd' is not an absolute path
    Network { Interface("eno1", address: "10.0.0.1/40") }  // error: '10.0.0.1/40' on interface 'eno1' is not an address
    Timezone("Mars/Olympus_Mons")
}
