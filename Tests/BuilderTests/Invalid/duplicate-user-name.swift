import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    User("alice", uid: 2001)
    User("alice", uid: 2002)  // error: user 'alice' is declared twice in the same block
}
