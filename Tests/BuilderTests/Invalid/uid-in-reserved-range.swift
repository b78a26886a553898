import ImageDSL

// The lab's LDAP starts at 60001; a local account was given the next one.
let system = OperatingSystem {
    HostName("login1")
    User("svc-backup", uid: 60001)  // error: uid 60001 of 'svc-backup' is in 60000–65533, which Debian reserves
}
