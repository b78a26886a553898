import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    AptSource(uris: ["mirror.lab.example/debian"], suites: ["bookworm"])  // error: must each be an http(s):// or file:/ URI
}
