/// A user account.
///
/// ```swift
/// User("alice", uid: 2001, groups: ["sudo"], sshKeys: ["ssh-ed25519 AAAA… alice@lab"])
/// ```
///
/// The account has no password (log in with a key); `sudo` grants sudo rights through
/// a file in `/etc/sudoers.d`.
public struct User: Codable, Hashable, Sendable, SystemComponent {
    /// How a user may use sudo.
    public enum Sudo: String, Codable, Hashable, Sendable {
        case none
        case withPassword
        case withoutPassword
    }

    public var name: String
    /// The user id; `nil` lets the system pick one (not reproducible across machines: set it).
    public var uid: Int?
    /// The primary group; `nil` means a group of the user's own name with gid = uid.
    public var primaryGroup: String?
    /// Supplementary groups.
    public var groups: [String]
    public var shell: String
    public var home: String
    public var comment: String
    public var sshKeys: [String]
    public var sudo: Sudo

    public init(
        _ name: String, uid: Int? = nil, primaryGroup: String? = nil, groups: [String] = [],
        shell: String = "/bin/bash", home: String? = nil, comment: String = "",
        sshKeys: [String] = [], sudo: Sudo = .none
    ) {
        self.name = name
        self.uid = uid
        self.primaryGroup = primaryGroup
        self.groups = groups
        self.shell = shell
        self.home = home ?? (name == "root" ? "/root" : "/home/\(name)")
        self.comment = comment
        self.sshKeys = sshKeys
        self.sudo = sudo
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.upsert(self, into: \.users, key: "user:\(name)", at: location) { $0.name == name }
    }
}
