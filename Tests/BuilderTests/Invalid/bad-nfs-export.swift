import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    NFSMount("nfs.lab.example/export/home", at: "/home")  // error: NFS export 'nfs.lab.example/export/home' is not server:/path
}
