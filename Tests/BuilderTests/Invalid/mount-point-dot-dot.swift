import ImageDSL

let system = OperatingSystem {
    HostName("nfs1")
    Mount("nfs1:/export/apps", at: "/srv/../opt/apps", type: "nfs4")  // error: mount point '/srv/../opt/apps' of 'nfs1:/export/apps' is not a clean absolute path
}
