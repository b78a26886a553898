import ImageDSL

let system = OperatingSystem {  // error: the system has no host name
    Packages("htop")
}
