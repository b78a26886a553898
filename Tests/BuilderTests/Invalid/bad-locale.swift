import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Locales("french")  // error: 'french' is not a locale name
}
