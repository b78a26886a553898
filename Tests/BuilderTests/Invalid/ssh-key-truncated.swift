import ImageDSL

// Copied from a terminal that cut the line.
let system = OperatingSystem {
    HostName("h1")
    User("alice", uid: 2001, sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJuX8+rxvvy5cCq6JpWA41kq alice@lab"])  // error: SSH key of user 'alice' is not usable: the Ed25519 key is truncated
}
