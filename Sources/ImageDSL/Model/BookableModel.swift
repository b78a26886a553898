/// What a definition's ``Bookable`` declares, as imagec keeps it (its functions stay in the
/// definition): which machine, its options, what happens to the previous user's data.
public struct BookableModel: Codable, Hashable, Sendable {
    /// The machine's host name.
    public var machine: String
    public var options: [BookingOption]
    public var previousUsersData: DataPolicy
    public var remindDaysBefore: Int
    /// Where the machine's persistent volumes are mounted: where users' data lives.
    public var volumes: [String]
    public var location: SourceLocation

    public init(machine: String, options: [BookingOption], previousUsersData: DataPolicy, remindDaysBefore: Int,
                volumes: [String], location: SourceLocation) {
        self.machine = machine
        self.options = options
        self.previousUsersData = previousUsersData
        self.remindDaysBefore = remindDaysBefore
        self.volumes = volumes
        self.location = location
    }
}
