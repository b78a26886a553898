import ImageDSL

let system = OperatingSystem {
    HostName("checks")
    OpenSSH()
    Check.command("true", timeout: -5, name: "negative") // error: timeout -5.0 of check 'negative' is not between 0 and 3600 seconds
    Check.command("   ") // error: check 'command `   `' has an empty command
    Check.unitActive("no suffix") // error: 'no suffix' in check 'unit no suffix active' is not a systemd unit name
    Check.listening(port: 70000) // error: port 70000 in check 'port 70000/tcp listening' is not between 1 and 65535
    Check.mounted("data") // error: mount point 'data' in check 'mounted data' is not an absolute path
    RemoveCheck("no such check") // error: cannot remove check 'no such check': the system has no such check
}
