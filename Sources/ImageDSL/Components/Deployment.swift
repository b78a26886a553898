/// Where a system is deployed: the image pool its images are pushed to, and the name of the
/// root disk the machine boots from (the name its hypervisor knows). Declared with the
/// system, so it is reviewed with it; not part of the image's digest.
///
/// ```swift
/// Deployment(to: .rbd("vm", client: "imagec"), disk: "vm-127-disk-0")
/// Deployment(to: .local("/var/lib/imagec/pool"), disk: "bigmem2-root")
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

    public var pool: Pool
    /// The root disk's name in the pool, such as `vm-127-disk-0`.
    public var disk: String
    /// The first part of the images' names: `<prefix>_<host>_<YYYYMMDDHHMM>`.
    public var prefix: String

    public init(to pool: Pool, disk: String, prefix: String = "imagec") {
        self.pool = pool
        self.disk = disk
        self.prefix = prefix
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
        return problems
    }
}
