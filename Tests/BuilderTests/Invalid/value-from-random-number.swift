import ImageDSL

// A "free" uid picked at random.
let system = OperatingSystem {
    HostName("h1")
    User("alice", uid: Int.random(in: 20000...30000))  // error: it depends on the clock, the environment or chance
}
