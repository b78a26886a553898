import ImageDSL

let system = OperatingSystem {
    HostName("login3")
    User("alice", uid: 2001, shell: "bash")  // error: shell 'bash' of user 'alice' is not an absolute path
}
