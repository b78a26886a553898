/// Where a system is deployed: the image pool its images are pushed to, and the name of the
/// root disk the machine boots from (the name its hypervisor knows). Declared with the
/// system, so it is reviewed with it; not part of the image's digest.
///
/// With a machine, `imagec deploy` swaps the machine's root disk for the new image and checks
/// it over SSH (at `ssh`, else the system's first static address, else its host name).
///
/// ```swift
/// Deployment(to: .rbd("vm", client: "imagec"), disk: "vm-127-disk-0",
///            machine: .proxmox(vmid: 127, node: "pve1", api: "https://pve1.lab:8006"))
/// Deployment(to: .local("/var/lib/imagec/pool"), disk: "node7-root", machine: .libvirt("node7"), shutdown: .powerOff)
/// ```
public struct Deployment: Codable, Hashable, Sendable, SystemComponent {
    /// An image pool.
    public enum Pool: Codable, Hashable, Sendable {
        /// A Ceph RBD pool (and namespace), reached as `client` with the cluster's configuration file.
        case rbd(pool: String, namespace: String?, client: String, configuration: String)
        /// A directory of qcow2 files on the admin machine.
        case local(directory: String)

        public static func rbd(_ pool: String, namespace: String? = nil, client: String = "admin",
                               configuration: String = "/etc/ceph/ceph.conf") -> Pool {
            .rbd(pool: pool, namespace: namespace, client: client, configuration: configuration)
        }

        public static func local(_ directory: String = "/var/lib/imagec/pool") -> Pool { .local(directory: directory) }
    }

    /// The machine that boots from the disk, if imagec swaps it.
    public enum Machine: Codable, Hashable, Sendable {
        /// A libvirt domain on the hypervisor at `uri`.
        case libvirt(domain: String, uri: String)
        /// A Proxmox VE VM, through the API at `api` with the token in `tokenFile`
        /// (`USER@REALM!TOKENID=SECRET`).
        case proxmoxVM(vmid: Int, node: String, api: String, tokenFile: String)
        /// A physical machine, reinstalled through its BMC and the network boot onto the root
        /// slot it is not running.
        case bareMetal(BareMetal)

        public static func libvirt(_ domain: String, uri: String = "qemu:///system") -> Machine {
            .libvirt(domain: domain, uri: uri)
        }

        public static func proxmox(vmid: Int, node: String, api: String, tokenFile: String = "/etc/imagec/proxmox.token") -> Machine {
            .proxmoxVM(vmid: vmid, node: node, api: api, tokenFile: tokenFile)
        }
    }

    /// How the machine is stopped for a swap.
    public enum Shutdown: String, Codable, Hashable, Sendable {
        /// The system shuts down cleanly: asked over SSH, else through the hypervisor (guest
        /// agent or ACPI), and powered off if it has not stopped after `--stop-timeout`.
        case clean
        /// The system's file systems are frozen by the guest agent (else flushed over SSH:
        /// `sync`), then the machine is powered off at once: a swap takes a second or two
        /// instead of a shutdown's length. For machines that keep nothing; not allowed with
        /// persistent volumes.
        case powerOff
    }

    public var pool: Pool
    /// The root disk's name in the pool, such as `vm-127-disk-0`.
    public var disk: String
    /// The first part of the images' names: `<prefix>_<host>_<YYYYMMDDHHMM>`.
    public var prefix: String
    public var machine: Machine?
    /// Where checks reach the machine's SSH server after a swap: `host` or `host:port`.
    public var ssh: String?
    /// The pool images holding persistent volumes, by volume name (`["data": "vm-127-disk-1"]`):
    /// those declared `snapshotBeforeDeploy` are snapshotted while the machine is stopped.
    public var volumes: [String: String]
    public var shutdown: Shutdown

    /// A physical machine's deployment: `imagec serve` hands the machine's installer its image
    /// from the store. `images` is the local pool recorded for its deploys (in the ledger);
    /// `disk` is `root`, which a bare-metal host does not share with another.
    public init(bareMetal machine: BareMetal, images: String = "/var/lib/imagec/boot", prefix: String = "imagec", ssh: String? = nil) {
        self.init(to: .local(images), disk: "root", prefix: prefix, machine: .bareMetal(machine), ssh: ssh)
    }

    public init(to pool: Pool, disk: String, prefix: String = "imagec", machine: Machine? = nil, ssh: String? = nil,
                volumes: [String: String] = [:], shutdown: Shutdown = .clean) {
        self.pool = pool
        self.disk = disk
        self.prefix = prefix
        self.machine = machine
        self.ssh = ssh
        self.volumes = volumes
        self.shutdown = shutdown
    }

    /// Decodes values recorded before `shutdown` existed (the ledger keeps every swap's target).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(to: try container.decode(Pool.self, forKey: .pool), disk: try container.decode(String.self, forKey: .disk),
                  prefix: try container.decode(String.self, forKey: .prefix),
                  machine: try container.decodeIfPresent(Machine.self, forKey: .machine),
                  ssh: try container.decodeIfPresent(String.self, forKey: .ssh),
                  volumes: try container.decode([String: String].self, forKey: .volumes),
                  shutdown: try container.decodeIfPresent(Shutdown.self, forKey: .shutdown) ?? .clean)
    }

    /// Whether the machine is a physical one, reinstalled onto its root slots.
    public var isBareMetal: Bool {
        if case .bareMetal = machine { true } else { false }
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.set(\.deployment, to: self, key: "deployment", at: location)
    }

    /// What is wrong with the value, if anything.
    public func validate() -> [String] {
        var problems: [String] = []
        func nameProblem(_ name: String, _ what: String) {
            if name.isEmpty || name.hasPrefix("-") || name.hasPrefix(".")
                || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) {
                problems.append("\(what) '\(name)' is not a name of letters, digits, '-', '_' and '.'")
            }
        }
        nameProblem(disk, "deployment disk")
        for (volume, image) in volumes.sorted(by: { $0.key < $1.key }) {
            nameProblem(image, "the disk of volume '\(volume)'")
            if image == disk { problems.append("volume '\(volume)' is on the root disk '\(disk)', which deployment replaces") }
        }
        nameProblem(prefix, "deployment prefix")
        switch pool {
        case .rbd(let pool, let namespace, let client, let configuration):
            nameProblem(pool, "RBD pool")
            if let namespace { nameProblem(namespace, "RBD namespace") }
            nameProblem(client, "Ceph client")
            if !configuration.hasPrefix("/") { problems.append("the Ceph configuration '\(configuration)' is not an absolute path") }
        case .local(let directory):
            if !directory.hasPrefix("/") { problems.append("the local pool directory '\(directory)' is not an absolute path") }
        }
        switch machine {
        case .libvirt(let domain, let uri):
            nameProblem(domain, "libvirt domain")
            if !uri.contains(":") { problems.append("the libvirt URI '\(uri)' is not a URI such as qemu:///system") }
        case .proxmoxVM(let vmid, let node, let api, let tokenFile):
            if !(100...999_999_999).contains(vmid) { problems.append("the Proxmox VM id \(vmid) is not between 100 and 999999999") }
            nameProblem(node, "Proxmox node")
            if !(api.hasPrefix("https://") || api.hasPrefix("http://")) { problems.append("the Proxmox API '\(api)' is not an http(s) URL") }
            if !tokenFile.hasPrefix("/") { problems.append("the Proxmox token file '\(tokenFile)' is not an absolute path") }
            // Proxmox finds a VM's disks by their names.
            if !disk.hasPrefix("vm-\(vmid)-disk-") { problems.append("the disk of Proxmox VM \(vmid) must be named vm-\(vmid)-disk-<n>, not '\(disk)'") }
        case .bareMetal(let machine):
            problems += machine.validate()
            if case .rbd = pool { problems.append("a bare-metal machine's images are published into a local pool, which imagec serve serves, not into RBD") }
            if !volumes.isEmpty { problems.append("volumes name pool images for a VM's disks; a bare-metal machine's persistent volumes are found on its own disks") }
        case nil: break
        }
        if let ssh {
            let parts = ssh.split(separator: ":", omittingEmptySubsequences: false)
            let host = parts[0]
            let isAddress = host.allSatisfy { $0.isASCIIDigit || $0 == "." }
            if ssh.isEmpty || ssh.contains(" ") || (parts.count == 2 && Int(parts[1]).map { !(1...65535).contains($0) } ?? true) || parts.count > 2 {
                problems.append("the SSH address '\(ssh)' is not host or host:port")
            } else if isAddress ? !AddressSyntax.isIPv4(host)
                : host.split(separator: ".", omittingEmptySubsequences: false).contains(where: {
                    $0.wholeMatch(of: /[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?/) == nil })
            {
                problems.append("the SSH address '\(ssh)' names \(isAddress ? "no IPv4 address" : "no valid host name"): '\(host)'")
            }
        }
        return problems
    }
}
