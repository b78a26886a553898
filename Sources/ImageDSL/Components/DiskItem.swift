/// Something that can appear in a `Disk { … }` block.
public protocol DiskItem: Sendable {
    func apply(to system: inout OperatingSystem, at location: SourceLocation)
}
