import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    User("alice", uid: 70000)  // error: uid 70000 of user 'alice' is out of range
}
