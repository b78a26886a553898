/// Removes a file that an inherited template declared.
public struct RemoveFile: SystemComponent {
    public var path: String

    public init(_ path: String) { self.path = path }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        guard system.files.contains(where: { $0.path == path }) else {
            system.report("cannot remove file '\(path)': the system does not declare it", at: location)
            return
        }
        system.files.removeAll { $0.path == path }
    }
}
