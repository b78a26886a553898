/// A service as a system declares it: its value and where it was written.
public struct ServiceDeclaration: Sendable {
    public var service: any Service
    public var location: SourceLocation

    public init(_ service: any Service, at location: SourceLocation) {
        self.service = service
        self.location = location
    }

    /// The name of the service's type.
    public var name: String { type(of: service).name }
}
