import ImageDSL

// The admin pasted the wrong file of the pair.
let system = OperatingSystem {
    HostName("h1")
    User("alice", uid: 2001, sshKeys: ["-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAABG5vbmU= -----END OPENSSH PRIVATE KEY-----"])  // error: SSH key of user 'alice' is not usable: this is a private key
}
