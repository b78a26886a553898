import Foundation

/// One check's outcome in a test record.
public struct CheckOutcome: Codable, Sendable {
    public var name: String
    public var passed: Bool
    public var seconds: Double
    /// What the guest printed the last time the check ran.
    public var output: String

    public init(name: String, passed: Bool, seconds: Double, output: String) {
        self.name = name
        self.passed = passed
        self.seconds = seconds
        self.output = output
    }
}
