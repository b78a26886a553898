import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    File("etc/motd", contents: "hello\n")  // error: file path 'etc/motd' is not an absolute path to a file
}
