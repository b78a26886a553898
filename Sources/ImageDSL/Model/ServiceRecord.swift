/// A service in the canonical model: its type's name and its value once other services
/// have extended it.
public struct ServiceRecord: Codable, Hashable, Sendable {
    public var type: String
    public var configuration: JSONValue

    public init(type: String, configuration: JSONValue) {
        self.type = type
        self.configuration = configuration
    }
}
