import ImageDSL

// A bookable bigmem server: the lab's bigmem template, its address, and what its users need.
let system = OperatingSystem(inheriting: Lab.bigmem) {
    HostName("bigmem2")
    Lab.network("eno1", address: "10.8.0.42", on: .bigmem)
    Packages("samtools", "bwa", "r-base-core")
    // Reinstalled through its BMC and the network boot: root slots on the disk with this
    // serial number; /home, on its other disk, is never written.
    Deployment(bareMetal: BareMetal(
        bmc: .redfish("https://bigmem2-bmc.lab.example", system: "System.Embedded.1", credentialsFile: "/etc/imagec/bmc/bigmem2"),
        bootMAC: "b8:ca:3a:6e:12:40", rootDisk: .serial("S4EWNX0R123456")))
    User("alice", uid: 2001, groups: ["sudo"],
         sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJuX8+rxvvy5cCq6JpWA41kqg3agrhGJcMpfSKgjRqfD alice@lab"])
}

// Booked in GRR: each booking reinstalls it for its user (`imagec bookings run`, every night).
let bookable = Lab.bookable(system)
