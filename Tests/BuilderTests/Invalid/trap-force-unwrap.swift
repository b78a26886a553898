import ImageDSL

let port: Int? = nil
print("evaluating")
let system = OperatingSystem {
    HostName("h1")
    OpenSSH(port: port!)  // error: the definition crashed while running: Unexpectedly found nil
}
