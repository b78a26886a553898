/// A problem found in a definition, reported like the Swift compiler reports errors.
public struct Diagnostic: Codable, Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Codable, Sendable {
        case error, warning, note
    }

    public var severity: Severity
    public var message: String
    public var location: SourceLocation?

    public init(_ message: String, at location: SourceLocation?, severity: Severity = .error) {
        self.severity = severity
        self.message = message
        self.location = location
    }

    /// `file:line: error: message`, or `error: message` when the location is unknown.
    public var description: String {
        guard let location, location != .unknown else { return "\(severity.rawValue): \(message)" }
        return "\(location): \(severity.rawValue): \(message)"
    }
}
