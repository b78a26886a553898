import Foundation
import ImageDSL

// Works on the admin's laptop; in the sandbox HOME is a scratch folder of its own.
let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"  // error: it depends on the clock, the environment or chance

let system = OperatingSystem {
    HostName("h1")
    File("/etc/imagec-built-by", contents: home + "\n")
}
