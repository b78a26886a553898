import ImageDSL

let system = OperatingSystem {
    HostName("web1")
    File("/etc/nginx/htpasswd", mode: 0o640, owner: "root", group: "www-date", contents: "admin:x\n")  // error: group 'www-date' is neither declared nor one of Debian's accounts; did you mean 'www-data'?
}
