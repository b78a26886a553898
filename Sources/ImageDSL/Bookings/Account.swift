/// A person of the lab's ``Directory``: what a booked machine needs to give them their
/// account and to mail them.
///
/// ```swift
/// Account("alice", uid: 2001, mail: "alice@lab.example", fullName: "Alice Martin",
///         sshKeys: ["ssh-ed25519 AAAA… alice@laptop"])
/// ```
public struct Account: Codable, Hashable, Sendable {
    public var name: String
    public var uid: Int
    /// Supplementary groups on the machines they book.
    public var groups: [String]
    public var sshKeys: [String]
    public var mail: String
    public var fullName: String

    public init(_ name: String, uid: Int, mail: String, fullName: String = "", groups: [String] = [], sshKeys: [String] = []) {
        self.name = name
        self.uid = uid
        self.groups = groups
        self.sshKeys = sshKeys
        self.mail = mail
        self.fullName = fullName
    }

    /// The account as a user of the booked machine.
    public func user(sudo: User.Sudo = .none, extraGroups: [String] = []) -> User {
        User(name, uid: uid, groups: groups + extraGroups, comment: fullName, sshKeys: sshKeys, sudo: sudo)
    }
}
