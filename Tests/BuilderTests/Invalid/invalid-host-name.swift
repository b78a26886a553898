import ImageDSL

let system = OperatingSystem {
    HostName("big_mem")  // error: 'big_mem' is not a valid host name
}
