import ImageDSL

// Copied from an old NIS map, where 10 was the first free uid.
let system = OperatingSystem {
    HostName("login1")
    User("alice", uid: 10)  // error: uid 10 of 'alice' is Debian's static uid of 'uucp' (base-passwd)
}
