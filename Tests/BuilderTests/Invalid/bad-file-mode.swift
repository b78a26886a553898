import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    File("/etc/lab.conf", mode: 0o17777, contents: "")  // error: mode 17777 of file '/etc/lab.conf' is not a permission mode
}
