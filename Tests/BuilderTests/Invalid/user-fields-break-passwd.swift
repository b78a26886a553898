import ImageDSL

let system = OperatingSystem {
    HostName("login1")
    User("alice", uid: 2001, comment: "Alice Martin: PhD student, team B")  // error: the comment of user 'alice' contains ':'
    User("bob", uid: 2002, shell: "/bin/bash\n")  // error: the shell of user 'bob' contains a newline or control character
    User("carol", uid: 2003, home: "/home/carol:/bin/sh")  // error: the home of user 'carol' contains ':'
}
