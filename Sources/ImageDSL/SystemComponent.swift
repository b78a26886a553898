/// Anything that can appear in an `OperatingSystem { … }` block.
///
/// A component changes the system being declared: it sets a value (a host name),
/// adds something (a package, a user, a service) or removes something inherited.
/// Labs can write their own components by conforming to this protocol.
public protocol SystemComponent: Sendable {
    /// Applies the component to `system`; `location` is where the component was written.
    func apply(to system: inout OperatingSystem, at location: SourceLocation)
}
