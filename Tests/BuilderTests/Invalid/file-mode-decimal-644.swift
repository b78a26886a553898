import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    File("/etc/lab/site.conf", mode: 644, contents: "site=lab\n")  // error: mode 644 is a decimal number (0o1204 in octal)
}
