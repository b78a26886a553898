/// Where something was declared: a file and a line of a system or template definition.
///
/// Every declaration in a definition records its location, so errors can point at the
/// line that caused them. Locations are not part of a system's canonical form.
public struct SourceLocation: Codable, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public static let unknown = SourceLocation(file: "<unknown>", line: 0)

    public var description: String { "\(file):\(line)" }
}
