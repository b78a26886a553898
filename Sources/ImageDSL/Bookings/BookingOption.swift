/// A choice a booking's form offers (GRR's "MBBWorkflow: Oui / Non"): its name, the values
/// it may take, and the value of a booking that does not say.
///
/// `imagec lock` locks the packages of every combination of values, so a booking never
/// needs a package the lock has not reviewed.
public struct BookingOption: Codable, Hashable, Sendable {
    public var name: String
    public var values: [String]
    public var defaultValue: String

    public init(_ name: String, values: [String], default defaultValue: String) {
        self.name = name
        self.values = values
        self.defaultValue = defaultValue
    }
}
