import ImageDSL

let system = OperatingSystem {
    HostName("login2")
    User("alice", uid: 2001, home: "home/alice")  // error: home 'home/alice' of user 'alice' is not an absolute path
}
