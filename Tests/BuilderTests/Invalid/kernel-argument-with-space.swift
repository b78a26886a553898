import ImageDSL

let system = OperatingSystem {
    HostName("h1")
    KernelArguments("console=ttyS0 quiet")  // error: kernel argument 'console=ttyS0 quiet' is empty or contains spaces
}
