import ImageDSL

// Two keys pasted from authorized_keys into one string.
let system = OperatingSystem {
    HostName("h1")
    User("alice", uid: 2001, sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJuX8+rxvvy5cCq6JpWA41kqg3agrhGJcMpfSKgjRqfD alice@lab\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJuX8+rxvvy5cCq6JpWA41kqg3agrhGJcMpfSKgjRqfD alice@home"])  // error: SSH key of user 'alice' is not usable: it spans several lines
}
