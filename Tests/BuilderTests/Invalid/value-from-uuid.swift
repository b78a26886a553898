import Foundation
import ImageDSL

let buildID = UUID().uuidString  // error: the definition gives another value on every run

let system = OperatingSystem {
    HostName("h1")
    File("/etc/build-id", contents: buildID + "\n")
}
