import ImageDSL

let system = OperatingSystem {
    HostName("login1")
    Group("users-lab", gid: 3000)
    User("alice", uid: 2001, primaryGroup: "user-lab")  // error: primary group 'user-lab' is neither declared nor one of Debian's accounts; did you mean 'users-lab'?
}
