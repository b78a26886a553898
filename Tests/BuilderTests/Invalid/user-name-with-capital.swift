import ImageDSL

let system = OperatingSystem {
    HostName("login4")
    User("Alice", uid: 2001)  // error: 'Alice' is not a valid user name
}
