import ImageDSL

let system = OperatingSystem {
    HostName("h1)  // error: unterminated string literal
    Timezone("Europe/Paris")
}
