import ImageDSL

let system = OperatingSystem {
    HostNam("h1")  // error: cannot find 'HostNam' in scope
}
