import Foundation

/// Secrets and other machine-unique state that packages generate when they are installed
/// (keys, certificates, a database cluster with its random identifier). They never ship in an
/// image: the package layer removes them (they would also make two builds differ), deployment
/// injects each host's own secrets (a later step), and for stand-alone use a first-boot unit
/// makes whatever is still missing, as the package would have.
struct MachineUniqueState {
    /// A name for the unit, `imagec-<name>.service`.
    var name: String
    /// What the package generated, as shell globs under the root (files or folders).
    var paths: [String]
    /// The program that makes it again; the unit does nothing without it.
    var tool: String
    var commands: [String]
    /// The units that need it, and the units it needs.
    var neededBy: [String]
    var after: [String] = []

    static let all = [
        MachineUniqueState(name: "ssh-host-keys", paths: ["/etc/ssh/ssh_host_*"], tool: "/usr/bin/ssh-keygen",
                           commands: ["/usr/bin/ssh-keygen -A"], neededBy: ["ssh.service"]),
        // A cluster shares one MUNGE key: deployment injects it; a machine alone makes its own.
        MachineUniqueState(name: "munge-key", paths: ["/etc/munge/munge.key"], tool: "/usr/sbin/mungekey",
                           commands: ["/usr/sbin/mungekey --create --keyfile=/etc/munge/munge.key", "/bin/chown munge:munge /etc/munge/munge.key"],
                           neededBy: ["munge.service"]),
        MachineUniqueState(name: "snakeoil-certificate",
                           paths: ["/etc/ssl/private/ssl-cert-snakeoil.key", "/etc/ssl/certs/ssl-cert-snakeoil.pem"],
                           tool: "/usr/sbin/make-ssl-cert", commands: ["/usr/sbin/make-ssl-cert generate-default-snakeoil"],
                           neededBy: ["postgresql.service", "apache2.service", "nginx.service", "postfix.service"]),
        // Debian's default cluster, made at install with a random system identifier.
        MachineUniqueState(name: "postgresql-cluster", paths: ["/var/lib/postgresql/*/main", "/etc/postgresql/*/main"],
                           tool: "/usr/bin/pg_createcluster",
                           commands: [#"/bin/sh -c 'for v in /usr/lib/postgresql/*; do /usr/bin/pg_createcluster "${v##*/}" main; done'"#],
                           neededBy: ["postgresql.service"], after: ["imagec-snakeoil-certificate.service"]),
    ]

    /// The shell command, for an mmdebstrap hook, that removes all of it under "$1".
    static var removalHook: String {
        "rm -rf " + all.flatMap(\.paths).map { #""$1"\#($0)"# }.joined(separator: " ")
    }

    var unitName: String { "imagec-\(name).service" }

    /// The first-boot unit: runs before the units that need the secret, and only when the
    /// program is installed and the secret is missing. systemd expands `$VAR` and `${VAR}` in
    /// `ExecStart`, so each `$` of a command is written `$$`.
    var unit: String {
        """
        [Unit]
        Description=Make \(name.replacingOccurrences(of: "-", with: " ")) the deployment did not provide
        DefaultDependencies=no
        After=\((["local-fs.target"] + after).joined(separator: " "))
        Before=sysinit.target \(neededBy.joined(separator: " "))
        ConditionPathExists=\(tool)
        \(paths.map { "ConditionPathExistsGlob=!\($0)" }.joined(separator: "\n"))

        [Service]
        Type=oneshot
        \(commands.map { "ExecStart=" + $0.replacingOccurrences(of: "$", with: "$$") }.joined(separator: "\n"))

        [Install]
        WantedBy=sysinit.target

        """
    }
}
