/// One step of a system's inheritance chain, as its package layers follow it: a template, or
/// the system itself, and every package it asks for (with what the templates below it ask).
///
/// `Lab.bigmem` inheriting `Lab.base`, and `bigmem2` inheriting `Lab.bigmem`, give three stages
/// when each adds packages; a template that adds none shares the stage below it.
public struct PackageStage: Codable, Equatable, Sendable {
    /// Where the stage's `OperatingSystem { … }` is written: `templates/Lab.swift:40`.
    public var location: SourceLocation
    /// Every package the stage asks for, sorted (``SystemModel/requestedPackages``).
    public var requested: [String]

    public init(location: SourceLocation, requested: [String]) {
        self.location = location
        self.requested = requested
    }
}
