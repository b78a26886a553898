/// Folds a system's services, the way Guix folds its service graph: services that extend
/// another are folded first, the target takes what they contributed, and every service's
/// contributions to the system itself are collected.
struct ServiceFold {
    /// A contribution to the system, with the service and location it came from.
    struct Contribution {
        var value: ServiceExtension.SystemContribution
        var service: String
        var location: SourceLocation
    }

    private(set) var services: [ServiceDeclaration] = []
    private(set) var contributions: [Contribution] = []
    private(set) var problems: [Diagnostic] = []

    /// `removed`: the services a `RemoveService` took away, with where.
    init(_ declared: [ServiceDeclaration], removed: [String: SourceLocation] = [:]) {
        // Fold in the order of type names, so the declaration order never changes the result.
        let sorted = declared.enumerated().sorted { ($0.element.name, $0.offset) < ($1.element.name, $1.offset) }.map(\.element)
        reportConflicts(declared)
        let instances = addMissingTargets(to: removeDuplicates(sorted), removed: removed)
        fold(instances)
    }

    /// Drops a second instance of a single-instance type, with an error.
    private mutating func removeDuplicates(_ declared: [ServiceDeclaration]) -> [ServiceDeclaration] {
        var first: [String: SourceLocation] = [:]
        var kept: [ServiceDeclaration] = []
        for declaration in declared {
            let type = Swift.type(of: declaration.service)
            if let location = first[declaration.name], !type.allowsMultipleInstances {
                problems.append(Diagnostic(
                    "service '\(declaration.name)' is declared twice (first at \(location)); "
                        + "to change an inherited service use ModifyService(\(type).self) { … }",
                    at: declaration.location))
                continue
            }
            first[declaration.name] = first[declaration.name] ?? declaration.location
            kept.append(declaration)
        }
        return kept
    }

    /// Adds default instances of extended types the system lacks; reports the rest, at the
    /// `RemoveService` that took one away when one did (the service that needs it as a note).
    private mutating func addMissingTargets(to declared: [ServiceDeclaration], removed: [String: SourceLocation]) -> [ServiceDeclaration] {
        var instances = declared
        var index = 0
        while index < instances.count {
            let extender = instances[index]
            for contribution in Self.serviceContributions(of: extender.service) where contribution.required {
                guard !instances.contains(where: { $0.name == contribution.targetName }) else { continue }
                if let removal = removed[contribution.targetName] {
                    problems.append(Diagnostic(
                        "removing service '\(contribution.targetName)' leaves service '\(extender.name)' without it, and it needs it; "
                            + "remove '\(extender.name)' too, or keep '\(contribution.targetName)'",
                        at: removal))
                    problems.append(Diagnostic("service '\(extender.name)' is declared here", at: extender.location, severity: .note))
                } else if let instance = contribution.defaultInstance {
                    instances.append(ServiceDeclaration(instance, at: extender.location))
                } else {
                    problems.append(Diagnostic(
                        "service '\(extender.name)' needs service '\(contribution.targetName)', "
                            + "which the system does not declare",
                        at: extender.location))
                }
            }
            index += 1
        }
        return instances
    }

    /// Reports each pair of conflicting services once, at the one declared last, whichever
    /// of the two types names the other.
    private mutating func reportConflicts(_ declared: [ServiceDeclaration]) {
        for (index, later) in declared.enumerated() {
            for earlier in declared[..<index] {
                let types = (Swift.type(of: earlier.service), Swift.type(of: later.service))
                guard types.0.conflicts.contains(where: { $0.name == later.name })
                    || types.1.conflicts.contains(where: { $0.name == earlier.name })
                else { continue }
                problems.append(Diagnostic(
                    "service '\(later.name)' conflicts with service '\(earlier.name)' (declared at \(earlier.location)); "
                        + "remove one with RemoveService",
                    at: later.location))
            }
        }
    }

    /// Folds in dependency order: a service is folded after every service that extends it.
    private mutating func fold(_ instances: [ServiceDeclaration]) {
        let targets = instances.map { Set(Self.serviceContributions(of: $0.service).map(\.targetName)) }
        var waiting = instances.indices.map { index in
            instances.indices.filter { targets[$0].contains(instances[index].name) && $0 != index }.count
        }
        var received: [String: [any Sendable]] = [:]
        var done = Set<Int>()
        while done.count < instances.count {
            guard let next = instances.indices.first(where: { !done.contains($0) && waiting[$0] == 0 }) else {
                let cycle = instances.indices.filter { !done.contains($0) }.map { instances[$0].name }
                problems.append(Diagnostic(
                    "services extend each other in a cycle (these services are in it or wait on it: \(cycle.joined(separator: ", ")))",
                    at: instances[instances.indices.first { !done.contains($0) }!].location))
                return
            }
            done.insert(next)
            let declaration = instances[next]
            let folded = Self.extend(declaration.service, with: received[declaration.name] ?? [])
            services.append(ServiceDeclaration(folded, at: declaration.location))
            for item in folded.extensions {
                switch item.target {
                case .system(let value):
                    contributions.append(Contribution(value: value, service: declaration.name, location: declaration.location))
                case .service(let contribution):
                    if let value = contribution.value { received[contribution.targetName, default: []].append(value) }
                }
            }
            for index in instances.indices where targets[next].contains(instances[index].name) && index != next {
                waiting[index] -= 1
            }
        }
    }

    private static func serviceContributions(of service: any Service) -> [ServiceExtension.ServiceContribution] {
        service.extensions.compactMap {
            if case .service(let contribution) = $0.target { contribution } else { nil }
        }
    }

    private static func extend<S: Service>(_ service: S, with values: [any Sendable]) -> S {
        service.extended(with: values.compactMap { $0 as? S.Extension })
    }
}
