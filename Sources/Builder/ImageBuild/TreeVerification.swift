import Foundation
import ImagecCore
import ImageDSL

/// The image's own checkers, run on its configured tree before a disk is made: `visudo -c`
/// for the sudoers rules, `sshd -t` for the configuration the OpenSSH service and its extra
/// lines give, `systemd-analyze verify` for the declared units. Each runs the image's binary
/// in bubblewrap with the whole tree as its read-only root, so nothing is written into it, and each
/// complaint is reported at the declaration that wrote the file.
struct TreeVerification {
    let model: SystemModel
    let tree: ConfiguredTree
    let scratch: URL

    func problems() throws -> [Diagnostic] {
        guard let bubblewrap = try? Sandbox.detect().bubblewrap else { return [] }
        var problems: [Diagnostic] = []
        if exists("usr/sbin/visudo"), exists("etc/sudoers") {
            problems += try complaints(of: run(bubblewrap, ["/usr/sbin/visudo", "-c"], what: "visudo"), tool: "visudo -c")
        }
        if exists("usr/sbin/sshd"), exists("etc/ssh/sshd_config") {
            // sshd -t wants a host key; the image has none (each machine gets its own).
            let key = scratch.appendingPathComponent("verification-host-key")
            try? FileManager.default.removeItem(at: key)
            try Tools(environment: ["LC_ALL": "C"], scratch: scratch).run(
                "/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", key.path])
            defer { try? FileManager.default.removeItem(at: key) }
            let result = try run(bubblewrap, ["/usr/sbin/sshd", "-t", "-h", "/run/imagec-host-key"], what: "sshd",
                                 binds: ["--dir", "/run/sshd", "--ro-bind", key.path, "/run/imagec-host-key"])
            problems += complaints(of: result, tool: "sshd -t")
        }
        let units = model.units.filter { $0.contents != nil }.map { "/etc/systemd/system/\($0.name)" }
        if !units.isEmpty, exists("usr/bin/systemd-analyze") {
            let result = try run(bubblewrap, ["/usr/bin/systemd-analyze", "verify", "--man=no"] + units, what: "systemd-analyze")
            problems += complaints(of: result, tool: "systemd-analyze verify", only: Set(model.units.map(\.name)))
        }
        return problems
    }

    private func exists(_ path: String) -> Bool { tree.existing("/" + path) != nil }

    private func run(_ bubblewrap: URL, _ command: [String], what: String, binds: [String] = []) throws -> Command.Result {
        let arguments = ["--die-with-parent", "--unshare-all", "--ro-bind", tree.root.path, "/", "--dev", "/dev", "--proc", "/proc",
                         "--tmpfs", "/run", "--tmpfs", "/tmp", "--clearenv", "--setenv", "LC_ALL", "C",
                         "--setenv", "PATH", "/usr/sbin:/usr/bin:/sbin:/bin"] + binds + command
        return try tree.command(bubblewrap.path, arguments)
            .run(timeout: 120, outputFile: scratch.appendingPathComponent("\(what)-verify.txt"))
    }

    /// The tool's complaints, each at the declaration of the file it names (or the unit):
    /// `/etc/sudoers.d/50-imagec:2:17: syntax error`, `/etc/ssh/sshd_config.d/50-imagec.conf:
    /// line 5: Bad configuration option: …`, `job.service: Command /usr/bin/x is not executable`.
    /// systemd-analyze also speaks of the packages' units: only lines naming `units` are kept.
    /// What "ignoring" is a warning; a failure that names nothing is reported at the system.
    private func complaints(of result: Command.Result, tool: String, only units: Set<String>? = nil) -> [Diagnostic] {
        var found: [Diagnostic] = []
        for line in result.output.split(whereSeparator: \.isNewline).map(String.init) {  // sshd ends its lines with \r\n
            let path = line.firstMatch(of: /^(\/etc\/[^\s:]+):(?: line)? ?\d+/).map { String($0.1) }
            let unit = units?.first { line.contains($0) }
            guard units == nil ? path != nil && !line.contains("terminating") : unit != nil else { continue }
            let key = unit.map { "unit:\($0)" } ?? "file:\(path!)"
            found.append(Diagnostic("\(tool) refuses it: \(line)", at: model.location(of: key),
                                    severity: line.hasSuffix("ignoring.") ? .warning : .error))
        }
        if result.status != 0, !found.contains(where: { $0.severity == .error }) {
            found.append(Diagnostic("\(tool) refuses the image's configuration: "
                + result.output.trimmingCharacters(in: .whitespacesAndNewlines), at: model.location(of: "system")))
        }
        return found
    }
}
