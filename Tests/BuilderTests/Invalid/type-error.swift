import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Disk(rootSize: 20)  // error: cannot convert value of type 'Int' to expected argument type 'ByteCount'
}
