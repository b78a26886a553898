/// Something that can appear in a `Network { … }` block.
public protocol NetworkItem: Sendable {
    func apply(to system: inout OperatingSystem, at location: SourceLocation)
}
