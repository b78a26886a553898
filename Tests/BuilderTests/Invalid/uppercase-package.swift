import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Packages("samtools", "Bwa")  // error: 'Bwa' is not a valid Debian package name
}
