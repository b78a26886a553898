import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    User("alice", uid: 2001)
    User("bob", uid: 2001)  // error: uid 2001 of user 'bob' is already used by user 'alice'
}
