import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Locales()  // error: Locales needs at least one locale
}
