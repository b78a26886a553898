import ImageDSL

// Edited by hand from an RSA line: the type no longer matches the key.
let system = OperatingSystem {
    HostName("h1")
    User("alice", uid: 2001, sshKeys: ["ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIJuX8+rxvvy5cCq6JpWA41kqg3agrhGJcMpfSKgjRqfD alice@lab"])  // error: SSH key of user 'alice' is not usable: it says 'ssh-rsa' but holds an 'ssh-ed25519' key
}
