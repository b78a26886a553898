/// One thing a service contributes: to the system itself (a package, a file, a unit, a user…)
/// or to another service (a firewall rule, a sysctl setting).
public struct ServiceExtension: Sendable {
    enum Target: Sendable {
        case system(SystemContribution)
        case service(ServiceContribution)
    }

    /// What a service adds to the system being folded.
    enum SystemContribution: Sendable {
        case packages([String])
        case file(File)
        case unit(SystemdUnit)
        case user(User)
        case group(Group)
        case kernelArguments([String])
        case mount(Mount)
        case check(Check)
    }

    /// A contribution to another service type.
    struct ServiceContribution: Sendable {
        var targetName: String
        var value: (any Sendable)?
        /// `false`: dropped when the system has no such service.
        var required: Bool
        var defaultInstance: (any Service)?
    }

    let target: Target

    /// Packages to install.
    public static func packages(_ names: String...) -> ServiceExtension { .init(target: .system(.packages(names))) }
    /// A file in the image.
    public static func file(_ file: File) -> ServiceExtension { .init(target: .system(.file(file))) }
    /// A systemd unit (a unit file, or a packaged unit to enable).
    public static func unit(_ unit: SystemdUnit) -> ServiceExtension { .init(target: .system(.unit(unit))) }
    /// Enables a unit that a package ships.
    public static func enable(_ unitName: String) -> ServiceExtension {
        .init(target: .system(.unit(SystemdUnit(unitName))))
    }
    /// A user account the service needs.
    public static func user(_ user: User) -> ServiceExtension { .init(target: .system(.user(user))) }
    /// A group the service needs.
    public static func group(_ group: Group) -> ServiceExtension { .init(target: .system(.group(group))) }
    /// Kernel command-line arguments.
    public static func kernelArguments(_ arguments: String...) -> ServiceExtension {
        .init(target: .system(.kernelArguments(arguments)))
    }
    /// A file system mounted at boot.
    public static func mount(_ mount: Mount) -> ServiceExtension { .init(target: .system(.mount(mount))) }

    /// A check `imagec test` runs on the booted image (the system may remove it by name).
    public static func check(_ check: Check) -> ServiceExtension { .init(target: .system(.check(check))) }

    /// Contributes `value` to the system's service of type `type`. The system must have one,
    /// unless the type has a default instance, which is then added.
    public static func extend<Target: Service>(_ type: Target.Type, with value: Target.Extension) -> ServiceExtension {
        .init(target: .service(ServiceContribution(
            targetName: Target.name, value: value, required: true, defaultInstance: Target.defaultInstance)))
    }

    /// Contributes `value` to the system's service of type `type` if it has one; otherwise nothing.
    public static func extendIfPresent<Target: Service>(
        _ type: Target.Type, with value: Target.Extension
    ) -> ServiceExtension {
        .init(target: .service(ServiceContribution(
            targetName: Target.name, value: value, required: false, defaultInstance: nil)))
    }

    /// Declares that this service needs a service of type `type` on the same system.
    public static func requires<Target: Service>(_ type: Target.Type) -> ServiceExtension {
        .init(target: .service(ServiceContribution(
            targetName: Target.name, value: nil, required: true, defaultInstance: Target.defaultInstance)))
    }
}
