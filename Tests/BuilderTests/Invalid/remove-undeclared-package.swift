import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    RemovePackages("nano")  // error: cannot remove package 'nano': the system does not declare it
}
