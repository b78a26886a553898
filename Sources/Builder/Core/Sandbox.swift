import Foundation

/// Runs a compiled definition so that it can neither reach the network nor read or write the
/// host's files: bubblewrap with every namespace unshared, only the system's programs and
/// libraries (`/usr`), the Swift runtime and the ImageDSL library visible, read-only, and one
/// writable scratch folder. Files it writes are limited in size and its memory is capped.
public struct Sandbox: Sendable {
    /// The `bwrap` program, or `nil` when sandboxing is turned off (`IMAGEC_SANDBOX=none`).
    public var bubblewrap: URL?

    public init(bubblewrap: URL?) { self.bubblewrap = bubblewrap }

    /// Largest file a definition may write, and its address-space limit.
    static let fileSizeLimit = 64 << 20
    static let memoryLimit = 8 << 30

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

    /// The command that runs `program` inside the sandbox. `readable` folders are visible
    /// read-only; `scratch` is the only writable place.
    public func command(running program: URL, scratch: URL, readable: [URL], environment: [String: String]) -> Command {
        let limited = [
            "/usr/bin/prlimit", "--fsize=\(Self.fileSizeLimit)", "--as=\(Self.memoryLimit)", "--core=0", "--", program.path,
        ]
        guard let bubblewrap else {
            return Command(executable: limited[0], arguments: Array(limited.dropFirst()), environment: environment, workingDirectory: scratch)
        }
        var arguments = [
            "--die-with-parent", "--new-session", "--unshare-all", "--hostname", "imagec", "--cap-drop", "ALL",
            "--ro-bind", "/usr", "/usr",
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
            "--clearenv",
        ]
        // /bin, /lib… are links into /usr on a merged-/usr system, folders otherwise.
        for top in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: top) {
                arguments += ["--symlink", target, top]
            } else {
                arguments += ["--ro-bind-try", top, top]
            }
        }
        for folder in readable { arguments += ["--ro-bind", folder.path, folder.path] }
        arguments += ["--bind", scratch.path, scratch.path, "--chdir", scratch.path]
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) { arguments += ["--setenv", name, value] }
        arguments += limited
        return Command(executable: bubblewrap.path, arguments: arguments, environment: [:], workingDirectory: scratch)
    }
}
