/// A service, modelled the Guix way: a value of a service type that contributes to the system
/// (packages, files, units, users…) and may extend other services.
///
/// The system's packages, files, units and users are the fold of its services: each service's
/// ``extensions`` are computed from its value after the services that extend it have been folded in.
///
/// ```swift
/// struct Motd: Service {
///     static let name = "motd"
///     var text: String
///     var extensions: [ServiceExtension] {
///         ServiceExtension.file(File("/etc/motd", contents: text))
///     }
/// }
/// ```
public protocol Service: SystemComponent, Codable, Equatable {
    /// The service type's name, as shown in errors, diffs and the canonical model.
    static var name: String { get }
    /// Whether a system may declare several services of this type (NFS mounts); default `false`.
    static var allowsMultipleInstances: Bool { get }
    /// The instance added when another service extends this type and the system has none;
    /// `nil` (the default) makes such an extension an error.
    static var defaultInstance: Self? { get }
    /// Service types that cannot run on the same system as this one.
    static var conflicts: [any Service.Type] { get }

    /// What other services contribute to this one (`Never` when it takes no contributions).
    associatedtype Extension: Sendable = Never

    /// This service with what other services contributed folded in.
    func extended(with contributions: [Extension]) -> Self

    /// What this service adds to the system and to other services.
    @ExtensionBuilder var extensions: [ServiceExtension] { get }

    /// Problems with this service's value, as messages (an empty list when it is valid).
    func validate() -> [String]
}

extension Service {
    public static var allowsMultipleInstances: Bool { false }
    public static var defaultInstance: Self? { nil }
    public static var conflicts: [any Service.Type] { [] }
    public func extended(with contributions: [Extension]) -> Self { self }
    public func validate() -> [String] { [] }

    /// A service in a system block adds itself to the system's services.
    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.services.append(ServiceDeclaration(self, at: location))
    }
}
