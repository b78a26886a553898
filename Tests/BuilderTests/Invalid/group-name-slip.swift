import ImageDSL

let system = OperatingSystem {
    HostName("login1")
    User("alice", uid: 2001, groups: ["sudoo"])  // error: group 'sudoo' is neither declared nor one of Debian's accounts; did you mean 'sudo'?
}
