import ImageDSL  // error: the file declares no system
let template = OperatingSystem { HostName("h1") }
