import ImageDSL

let system = OperatingSystem {
    HostName("slurm1")
    File("/etc/munge/munge.key", mode: 400, owner: "root", contents: "not a real key\n")  // error: mode 400 is a decimal number (0o620 in octal); modes are octal: write 0o400
    File("/usr/local/bin/node-health", mode: 0755, contents: "#!/bin/sh\nexit 0\n")  // error: mode 0755 is a decimal number (0o1363 in octal); modes are octal: write 0o755
    File("/etc/motd", mode: 0o644, contents: "Welcome\n")  // mode: 644 in a comment is not code
    File("/etc/issue", mode: 292, contents: "Debian\n")
}
