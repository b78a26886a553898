import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    File("/usr/local/bin/backup", mode: 0o17755, contents: "#!/bin/sh\n")  // error: mode 17755 of file '/usr/local/bin/backup' is not a permission mode
}
