import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    User("alice", uid: 2001, sshKeys: ["AAAAC3Nza alice@lab"])  // error: SSH key of user 'alice' is not an OpenSSH public key
}
