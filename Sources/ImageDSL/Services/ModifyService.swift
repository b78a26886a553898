/// Changes an inherited service's value (Guix's `modify-services`).
///
/// ```swift
/// ModifyService(OpenSSH.self) { $0.passwordAuthentication = true }
/// ```
///
/// For types that allow several instances, every instance is changed unless `where` picks some.
public struct ModifyService<S: Service>: SystemComponent {
    let change: @Sendable (inout S) -> Void
    let filter: @Sendable (S) -> Bool

    public init(
        _ type: S.Type, where filter: @escaping @Sendable (S) -> Bool = { _ in true },
        _ change: @escaping @Sendable (inout S) -> Void
    ) {
        self.change = change
        self.filter = filter
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        var changed = false
        for index in system.services.indices {
            guard var service = system.services[index].service as? S, filter(service) else { continue }
            change(&service)
            system.services[index] = ServiceDeclaration(service, at: location)
            changed = true
        }
        if !changed {
            system.report("cannot modify service '\(S.name)': the system has no such service", at: location)
        }
    }
}
