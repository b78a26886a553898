import Foundation
import ImagecCore
import ImageDSL

/// A deployed machine's health: the same checks `imagec test` runs, against the real machine
/// over SSH as root with imagec's deploy key, its host key checked against the host's stable
/// key (a host presenting another key fails).
public struct HealthCheck {
    public var hostName: String
    public var checks: [Check]
    /// The SSH server: host name or address, and port.
    public var host: String
    public var port: Int
    public var key: URL
    /// known_hosts lines for `host` (its stable keys).
    public var knownHosts: [String]
    /// Seconds to wait for SSH to answer after the machine starts.
    public var bootTimeout: Double

    public init(hostName: String, checks: [Check], host: String, port: Int = 22, key: URL, knownHosts: [String], bootTimeout: Double) {
        self.hostName = hostName
        self.checks = checks
        self.host = host
        self.port = port
        self.key = key
        self.knownHosts = knownHosts
        self.bootTimeout = bootTimeout
    }

    /// The outcome: the checks run (failed ones with their output), or why none could run.
    public struct Outcome: Sendable {
        public var checks: [CheckOutcome]
        /// SSH never answered with the right host key, or a check failed: what and why.
        public var failure: String?
        public var passed: Bool { failure == nil }

        public init(checks: [CheckOutcome], failure: String?) {
            self.checks = checks
            self.failure = failure
        }
    }

    /// Runs `body` with a shell on the machine (its host key pinned) and a scratch folder.
    private func withShell<Result>(_ body: (GuestShell) throws -> Result) throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-health-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let knownHostsFile = scratch.appendingPathComponent("known_hosts")
        // HostKeyAlias makes ssh look the host up under its plain name, whatever the port.
        try knownHosts.map { line in "\(host) " + line.split(separator: " ", maxSplits: 1).last! }.joined(separator: "\n")
            .appending("\n").write(to: knownHostsFile, atomically: true, encoding: .utf8)
        let shell = GuestShell(host: host, port: port, key: key, scratch: scratch, knownHosts: knownHostsFile)
        defer { shell.close() }
        return try body(shell)
    }

    /// Asks the machine to power off (`systemctl poweroff` over SSH): an image without D-Bus
    /// ignores ACPI's power button and its guest agent's shutdown. Whether it accepted.
    public func requestPowerOff() -> Bool {
        (try? withShell { try $0.run("systemctl --no-block poweroff", timeout: 15).status == 0 }) ?? false
    }

    /// Asks the system to write its file systems' dirty data out; whether it did.
    public func requestSync() -> Bool {
        (try? withShell { try $0.run("sync", timeout: 15).status == 0 }) ?? false
    }

    /// Runs `script` on the machine (no waiting for SSH): its exit status and output. With
    /// `forwarding`, the machine's 127.0.0.1:`remote` reaches this host's 127.0.0.1:`local`
    /// while it runs.
    public func run(script: String, timeout: Double, forwarding: (remote: Int, local: Int)? = nil) throws -> (status: Int32, output: String) {
        try withShell { shell in
            let options = forwarding.map { ["-R", "127.0.0.1:\($0.remote):127.0.0.1:\($0.local)", "-o", "ExitOnForwardFailure=yes",
                                            "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4"] } ?? []
            let result = try shell.run(script, timeout: timeout, options: options)
            return (result.status, result.output)
        }
    }

    /// Waits for SSH, then runs every check; `progress` gets a line per check.
    public func run(progress: ProgressReporter) throws -> Outcome {
        try withShell { shell in try run(shell, progress: progress) }
    }

    private func run(_ shell: GuestShell, progress: ProgressReporter) throws -> Outcome {
        let started = Date()
        var last = ""
        while true {
            if let answer = try? shell.run("true", timeout: 15) {
                if answer.status == 0 { break }
                last = answer.output.trimmingCharacters(in: .whitespacesAndNewlines)
                // Another host key is not a matter of waiting.
                if last.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") || last.contains("Host key verification failed") {
                    return Outcome(checks: [], failure: "\(host):\(port) presented a host key other than \(hostName)'s: \(last)")
                }
            }
            if Date().timeIntervalSince(started) > bootTimeout {
                return Outcome(checks: [], failure: "SSH at \(host):\(port) did not answer within \(Int(bootTimeout)) s" + (last.isEmpty ? "" : ": \(last)"))
            }
            Thread.sleep(forTimeInterval: 2)
        }
        progress("SSH answered after \(Int(Date().timeIntervalSince(started))) s, with \(hostName)'s host key")
        let runner = CheckRunner(shell: shell, siteMounts: [])
        var outcomes: [CheckOutcome] = []
        for check in checks.sorted(by: { ($0.name == "boot" ? 0 : 1, $0.name) < ($1.name == "boot" ? 0 : 1, $1.name) }) {
            let outcome = runner.run(check)
            outcomes.append(outcome)
            progress(.check(check.name, passed: outcome.passed, seconds: outcome.seconds))
        }
        let failed = outcomes.filter { !$0.passed }
        guard !failed.isEmpty else { return Outcome(checks: outcomes, failure: nil) }
        return Outcome(checks: outcomes, failure: failed.map { "check '\($0.name)' failed:\n" + $0.output.split(separator: "\n").suffix(30).map { "    \($0)" }.joined(separator: "\n") }
            .joined(separator: "\n"))
    }
}
