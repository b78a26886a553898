/// Removes a file that an inherited template declared.
public struct RemoveFile: SystemComponent {
    public var path: String

    public init(_ path: String) { self.path = path }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.remove(from: \.files, "file '\(path)'", at: location) { $0.path == path }
    }
}
