import Foundation
import ImageDSL

/// Runs a system's checks in a booted guest. A check is retried every second until it
/// passes or its own timeout ends; `boot` stops early when the system is `degraded`, since
/// a failed unit stays failed.
public struct CheckRunner {
    let shell: GuestShell
    /// Mount units of network file systems, whose servers are outside the test network: their
    /// failure does not fail `boot`.
    var siteMounts: Set<String> = []

    public init(shell: GuestShell, siteMounts: Set<String> = []) {
        self.shell = shell
        self.siteMounts = siteMounts
    }

    /// The mount units of `model`'s network file systems (NFS, CIFS, CephFS… or `_netdev`).
    public static func siteMounts(of model: SystemModel) -> Set<String> {
        let remote: Set<String> = ["nfs", "nfs4", "cifs", "smb3", "ceph", "glusterfs", "lustre", "fuse.sshfs", "9p"]
        return Set(model.mounts.filter { remote.contains($0.type) || $0.options.contains("_netdev") }.map { mountUnit(for: $0.mountPoint) })
    }

    /// The name systemd gives the mount unit of `path`.
    static func mountUnit(for path: String) -> String { SystemdUnit.name(ofPath: path, suffix: "mount") }

    public func run(_ check: Check) -> CheckOutcome {
        let started = Date()
        var output = ""
        while true {
            let remaining = check.timeout - Date().timeIntervalSince(started)
            let verdict: Verdict
            if let result = try? shell.run(script(for: check.probe), timeout: max(5, min(remaining, 60))) {
                output = result.output
                verdict = judge(check.probe, status: result.status, output: result.output)
            } else {
                verdict = .retry
            }
            let seconds = (Date().timeIntervalSince(started) * 10).rounded() / 10
            switch verdict {
            case .pass: return CheckOutcome(name: check.name, passed: true, seconds: seconds, output: output)
            case .fail: return CheckOutcome(name: check.name, passed: false, seconds: seconds, output: output)
            case .retry:
                if Date().timeIntervalSince(started) + 1 >= check.timeout {
                    return CheckOutcome(name: check.name, passed: false, seconds: seconds,
                                   output: output + "\n(still failing after its timeout of \(Int(check.timeout)) s)")
                }
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    enum Verdict { case pass, fail, retry }

    /// The guest-side script of a probe: Debian's Essential tools only (no `ss`, no `awk`).
    func script(for probe: Check.Probe) -> String {
        switch probe {
        case .bootCompleted:
            return "state=$(systemctl is-system-running); echo \"$state\"; systemctl --failed --no-legend --plain --no-pager"
        case .unitActive(let unit):
            let quoted = GuestShell.quote(unit)
            return "systemctl is-active \(quoted) || { systemctl status \(quoted) --no-pager -n 20; exit 1; }"
        case .listening(let port, let transport):
            let hex = String(format: "%04X", port)
            let (files, state) = transport == .tcp ? ("/proc/net/tcp /proc/net/tcp6", "0A") : ("/proc/net/udp /proc/net/udp6", "07")
            return "grep -qE '^ *[0-9]+: [0-9A-F]+:\(hex) [0-9A-F]+:[0-9A-F]+ \(state) ' \(files) || { echo 'nothing listens on port \(port)/\(transport.rawValue)'; exit 1; }"
        case .command(let command, _):
            return command
        case .mounted(let mountPoint, _):
            let quoted = GuestShell.quote(mountPoint)
            return "mountpoint -q \(quoted) || { echo 'nothing is mounted on \(mountPoint)'; exit 1; }; df -B1 --output=size \(quoted) | tail -1"
        case .hostName:
            return "cat /proc/sys/kernel/hostname"
        case .users(let users):
            return "getent passwd " + users.map { GuestShell.quote($0.name) }.joined(separator: " ") + "; true"
        }
    }

    func judge(_ probe: Check.Probe, status: Int32, output: String) -> Verdict {
        let lines = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        switch probe {
        case .bootCompleted:
            switch lines.first {
            case "running": return .pass
            case "degraded":
                // Only network mounts failed: their servers are not in the test network.
                let failed = lines.dropFirst().compactMap { $0.split(separator: " ").first.map(String.init) }
                return !failed.isEmpty && failed.allSatisfy(siteMounts.contains) ? .pass : .fail
            default: return .retry
            }
        case .command(_, let expected):
            guard status == 0 else { return .retry }
            return expected.map { output.contains($0) } ?? true ? .pass : .retry
        case .mounted(_, let minimum):
            guard status == 0, let size = lines.last.flatMap({ UInt64($0) }) else { return .retry }
            return size >= (minimum?.bytes ?? 0) ? .pass : .fail
        case .hostName(let name):
            return lines.first == name ? .pass : .retry
        case .users(let users):
            let entries = Dictionary(lines.map { line in
                let fields = line.split(separator: ":", omittingEmptySubsequences: false)
                return (String(fields[0]), fields.count > 2 ? Int(fields[2]) : nil)
            }, uniquingKeysWith: { first, _ in first })
            return users.allSatisfy { user in entries[user.name].map { user.uid == nil || $0 == user.uid } ?? false } ? .pass : .retry
        case .unitActive, .listening:
            return status == 0 ? .pass : .retry
        }
    }
}
