import Foundation
import ImageDSL

// The motd says when the image was made: every evaluation gives another digest.
let system = OperatingSystem {
    HostName("h1")
    File("/etc/motd", contents: "Built on \(Date())\n")  // error: the definition gives another value on every run (systems[0].files
}
