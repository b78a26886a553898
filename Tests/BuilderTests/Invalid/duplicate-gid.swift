import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Group("lab", gid: 3000)
    Group("team", gid: 3000)  // error: gid 3000 of group 'team' is already used by group 'lab'
}
