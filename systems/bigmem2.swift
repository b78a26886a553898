import ImageDSL

// A bookable bigmem server: the lab's bigmem template, its address, and what its users need.
let system = OperatingSystem(inheriting: Lab.bigmem) {
    HostName("bigmem2")
    Lab.network("eno1", address: "10.8.0.42", on: .bigmem)
    Packages("samtools", "bwa", "r-base-core")
    User("alice", uid: 2001, groups: ["sudo"],
         sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJuX8+rxvvy5cCq6JpWA41kqg3agrhGJcMpfSKgjRqfD alice@lab"])
}
