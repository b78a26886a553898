/// Removes an inherited service (Guix's `delete`).
///
/// ```swift
/// RemoveService(Chrony.self)
/// RemoveService(NFSMount.self) { $0.mountPoint == "/scratch" }
/// ```
public struct RemoveService<S: Service>: SystemComponent {
    let filter: @Sendable (S) -> Bool

    public init(_ type: S.Type, where filter: @escaping @Sendable (S) -> Bool = { _ in true }) {
        self.filter = filter
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        let before = system.services.count
        system.services.removeAll { ($0.service as? S).map(filter) ?? false }
        if system.services.count == before {
            system.report("cannot remove service '\(S.name)': the system has no such service", at: location)
        } else if !system.services.contains(where: { $0.name == S.name }) {
            system.removedServices[S.name] = location
        }
    }
}
