import ImageDSL

let system = OperatingSystem {
    HostName("login1")
    User("alice", uid: 2001)
    Group("lab", gid: 3000, members: ["alcie"])  // error: member 'alcie' is neither declared nor one of Debian's accounts; did you mean 'alice'?
}
