import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    SnapshotArchive("https://snapshot.lab.example/archive/debian/")  // error: has no {timestamp}
    SnapshotArchive("snapshot.lab.example/archive/{archive}/{timestamp}/")  // error: must be an http(s):// or file:/ URL
}
