import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    User("alice", uid: 2001, sshKeys: ["AAAAC3Nza alice@lab"])  // error: SSH key of user 'alice' is not usable: the key type (such as ssh-ed25519) is missing
}
