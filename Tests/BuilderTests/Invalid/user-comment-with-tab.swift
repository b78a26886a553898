import ImageDSL

// A comment pasted from a spreadsheet, with its tab.
let system = OperatingSystem {
    HostName("login5")
    User("bob", uid: 2002, comment: "Bob Durand\tteam A")  // error: the comment of user 'bob' contains a newline or control character
}
