/// What evaluating a definition file gives: the systems it declares, resolved, and every
/// problem found. This is what a compiled definition hands back to imagec.
public struct EvaluationResult: Codable, Equatable, Sendable {
    public var systems: [SystemModel]
    public var diagnostics: [Diagnostic]
    /// The file's ``Bookable``, if it declares one.
    public var bookable: BookableModel?
    /// The booked machine with each combination of its options (see ``Bookable/variants``):
    /// what `imagec lock` locks beside the systems.
    public var variants: [SystemModel]?
    /// What the bookable machine made of the calendar's events, when imagec handed it some.
    public var bookings: [BookingOutcome]?
    /// What the definition printed is not here: it travels separately and cannot corrupt this.

    public init(systems: [SystemModel], diagnostics: [Diagnostic]) {
        self.systems = systems
        self.diagnostics = diagnostics
    }

    /// Resolves every system of a file and checks what must hold across them
    /// (``FleetConsistency``: host names, addresses, deployment targets).
    public init(resolving declared: [OperatingSystem]) {
        var systems: [SystemModel] = []
        var diagnostics: [Diagnostic] = []
        for system in declared {
            let (model, problems) = system.resolve()
            for problem in problems where !diagnostics.contains(problem) { diagnostics.append(problem) }
            if let model { systems.append(model) }
        }
        diagnostics += FleetConsistency.problems(systems)
        self.init(systems: systems.sorted { $0.hostName < $1.hostName }, diagnostics: diagnostics)
    }

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}
