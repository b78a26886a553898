import Foundation

/// Runs a compiled definition so that it can neither reach the network nor write outside
/// its scratch directory: bubblewrap with every namespace unshared, a read-only view of the
/// host, and private, empty `/tmp`, `/home`, `/root` and imagec state.
public struct Sandbox: Sendable {
    /// The `bwrap` program, or `nil` when sandboxing is turned off (`IMAGEC_SANDBOX=none`).
    public var bubblewrap: URL?

    public init(bubblewrap: URL?) { self.bubblewrap = bubblewrap }

    /// Finds bubblewrap; fails with the package to install when it is missing.
    public static func detect() throws -> Sandbox {
        if ProcessInfo.processInfo.environment["IMAGEC_SANDBOX"] == "none" { return Sandbox(bubblewrap: nil) }
        for directory in ["/usr/bin", "/usr/local/bin", "/bin"] {
            let candidate = URL(fileURLWithPath: directory).appendingPathComponent("bwrap")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return Sandbox(bubblewrap: candidate) }
        }
        throw BuildEnvironmentError(
            "bwrap is needed to evaluate definitions in a sandbox: install the Debian package 'bubblewrap' "
                + "(or set IMAGEC_SANDBOX=none to evaluate without one)")
    }

    /// The command that runs `program` inside the sandbox. `readable` folders stay visible
    /// read-only (even under hidden ones); `scratch` is the only writable place.
    func command(running program: URL, scratch: URL, readable: [URL], environment: [String: String]) -> Command {
        guard let bubblewrap else {
            return Command(executable: program.path, arguments: [], environment: environment, workingDirectory: scratch)
        }
        var arguments = [
            "--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--tmpfs", "/tmp", "--tmpfs", "/home", "--tmpfs", "/root", "--tmpfs", "/var/lib",
            "--clearenv",
        ]
        for folder in readable { arguments += ["--ro-bind", folder.path, folder.path] }
        arguments += ["--bind", scratch.path, scratch.path, "--chdir", scratch.path]
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) { arguments += ["--setenv", name, value] }
        arguments.append(program.path)
        return Command(executable: bubblewrap.path, arguments: arguments, environment: [:], workingDirectory: scratch)
    }
}
