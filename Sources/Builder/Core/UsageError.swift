import Foundation

/// A command-line argument that names something unusable (a missing file, an unknown system).
public struct UsageError: Error, CustomStringConvertible {
    public var description: String
    /// The file (`path` or `path:line`) the problem is in, if it is in one (a configuration file).
    public var file: String?

    public init(_ description: String, file: String? = nil) {
        self.description = description
        self.file = file
    }
}
