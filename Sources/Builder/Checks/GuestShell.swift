import Foundation
import ImagecCore

/// Runs shell commands in a guest as root over SSH. A test guest is reached with a throw-away
/// key through the port QEMU forwards on 127.0.0.1; its host keys are its own first-boot keys,
/// which die with the overlay, so they are not checked. A deployed machine is reached at its
/// address with imagec's deploy key, and its stable host key is checked (`knownHosts`).
///
/// Commands share one SSH connection (a control master, kept 60 s after its last use): under
/// TCG a new connection costs the guest about a second, a shared one a tenth of that. Call
/// ``close()`` when done with the machine.
public struct GuestShell {
    var host = "127.0.0.1"
    let port: Int
    let key: URL
    let scratch: URL
    /// A known_hosts file the guest's key must be in; nil for a test guest.
    var knownHosts: URL?
    /// The socket of the shared connection: in `scratch`, or in the temporary folder where
    /// `scratch`'s path is too long for a socket's.
    let controlPath: String

    public init(host: String = "127.0.0.1", port: Int, key: URL, scratch: URL, knownHosts: URL? = nil) {
        self.host = host
        self.port = port
        self.key = key
        self.scratch = scratch
        self.knownHosts = knownHosts
        // A socket's path has 107 bytes at most, and ssh adds 17 to it while it sets one up.
        let inScratch = scratch.appendingPathComponent("ssh").path
        controlPath = inScratch.utf8.count <= 88 ? inScratch
            : FileManager.default.temporaryDirectory.appendingPathComponent("imagec-ssh-\(UUID().uuidString.prefix(8))").path
    }

    /// Makes a throw-away key pair in `folder`: the private key's path and the public key line.
    public static func makeKey(in folder: URL) throws -> (key: URL, publicKey: String) {
        let key = folder.appendingPathComponent("id_ed25519")
        let made = try Command(executable: "/usr/bin/ssh-keygen", arguments: ["-q", "-t", "ed25519", "-N", "", "-C", "imagec-test", "-f", key.path])
            .run(timeout: 30, outputFile: folder.appendingPathComponent("ssh-keygen.txt"))
        guard made.status == 0 else { throw ToolError("ssh-keygen", made) }
        let publicKey = try String(contentsOf: folder.appendingPathComponent("id_ed25519.pub"), encoding: .utf8)
        return (key, publicKey.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The `ssh` arguments that reach the guest (also printed for `--keep-running`).
    public var sshArguments: [String] {
        let hostKeys = knownHosts.map { ["-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=\($0.path)", "-o", "HostKeyAlias=\(host)"] }
            ?? ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        return ["-i", key.path, "-p", "\(port)"] + hostKeys
            + ["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", "root@\(host)"]
    }

    /// The options that share one connection between commands.
    private var sharing: [String] {
        ["-o", "ControlMaster=auto", "-o", "ControlPath=\(controlPath)", "-o", "ControlPersist=60",
         "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"]
    }

    /// Runs `script` with `sh` in the guest; output is standard output and error together.
    /// `options` go before the others (`-R` forwardings).
    public func run(_ script: String, timeout: Double, options: [String] = []) throws -> Command.Result {
        try Command(executable: "/usr/bin/ssh", arguments: options + sharing + sshArguments + ["--", "sh -c \(Self.quote(script))"])
            .run(timeout: timeout, outputFile: scratch.appendingPathComponent("ssh-output.txt"))
    }

    /// Ends the shared connection, if one is open.
    public func close() {
        guard FileManager.default.fileExists(atPath: controlPath) else { return }
        _ = try? Command(executable: "/usr/bin/ssh", arguments: ["-o", "ControlPath=\(controlPath)", "-O", "exit", "root@\(host)"])
            .run(timeout: 10, outputFile: scratch.appendingPathComponent("ssh-exit.txt"))
    }

    /// `text` as one single-quoted shell word.
    static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
