import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    Timezone("Paris")  // error: 'Paris' is not a time zone name
}
