import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    File("/etc/motd", contents: """  // error: multi-line string literal content must begin on a new line
        Welcome to h1.
        """)
}
