/// A reusable group of components, for labs that want to name a set of
/// declarations and use it in several systems or templates.
///
/// ```swift
/// let labAdmins = Components {
///     User("admin1", uid: 1501, groups: ["sudo"], sshKeys: ["ssh-ed25519 AAAA… admin1@lab"])
///     User("admin2", uid: 1502, groups: ["sudo"], sshKeys: ["ssh-ed25519 AAAA… admin2@lab"])
/// }
/// ```
public struct Components: SystemComponent {
    let declarations: [SystemBuilder.Declaration]

    public init(@SystemBuilder _ content: () -> [SystemBuilder.Declaration]) {
        declarations = content()
    }

    /// Each component keeps the location it was written at.
    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        for declaration in declarations {
            declaration.item.apply(to: &system, at: declaration.location)
        }
    }
}
