/// The lab's people who may book machines, kept in the definitions repository (a template
/// file), so that a new account is reviewed like any change.
///
/// ```swift
/// static let people = Directory {
///     Account("alice", uid: 2001, mail: "alice@lab.example", sshKeys: ["ssh-ed25519 AAAA… alice@laptop"])
/// }
/// ```
public struct Directory: Sendable {
    public var accounts: [Account]

    public init(_ accounts: [Account]) { self.accounts = accounts }

    public init(@AccountsBuilder _ content: () -> [Account]) { accounts = content() }

    /// The account named `name`.
    public subscript(name: String) -> Account? { accounts.first { $0.name == name } }

    /// Collects the accounts of `Directory { … }`.
    @resultBuilder
    public enum AccountsBuilder {
        public static func buildExpression(_ account: Account) -> [Account] { [account] }
        public static func buildExpression(_ accounts: [Account]) -> [Account] { accounts }
        public static func buildBlock(_ parts: [Account]...) -> [Account] { parts.flatMap { $0 } }
        public static func buildOptional(_ part: [Account]?) -> [Account] { part ?? [] }
        public static func buildEither(first part: [Account]) -> [Account] { part }
        public static func buildEither(second part: [Account]) -> [Account] { part }
        public static func buildArray(_ parts: [[Account]]) -> [Account] { parts.flatMap { $0 } }
    }
}
