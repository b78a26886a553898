/// The lab's shared store: a Ceph RADOS pool that holds store entries (built images, root
/// bases, .debs) signed by the lab's key, so any build host substitutes what another one built
/// instead of building it, as Guix substitutes and Nix binary caches do.
///
/// ```swift
/// SharedStore(pool: "imagec-store", client: "imagec", trusting: ["ed25519:9cJwF3…"])
/// ```
///
/// `trusting` lists the public keys (`imagec store key` prints a host's) whose entries a build
/// accepts; anything else is refused. Declared in a site template; like `Deployment`, it does
/// not change the image.
public struct SharedStore: Codable, Hashable, Sendable, SystemComponent {
    public var pool: String
    public var namespace: String?
    public var client: String
    public var configuration: String
    public var trustedKeys: [String]

    public init(pool: String, namespace: String? = nil, client: String = "admin", configuration: String = "/etc/ceph/ceph.conf",
                trusting trustedKeys: [String]) {
        self.pool = pool
        self.namespace = namespace
        self.client = client
        self.configuration = configuration
        self.trustedKeys = trustedKeys
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.set(\.sharedStore, to: Optional(self), key: "sharedStore", at: location)
    }
}
