import Foundation

/// A command-line argument that names something unusable (a missing file, an unknown system).
public struct UsageError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
