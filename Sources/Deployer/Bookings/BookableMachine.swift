import ImageDSL

/// A bookable machine as the night sees it: its declaration, the definition file it is in,
/// and what it made of the calendar's events.
public struct BookableMachine: Sendable {
    public var definition: String
    public var model: BookableModel
    public var outcomes: [BookingOutcome]

    public init(definition: String, model: BookableModel, outcomes: [BookingOutcome]) {
        self.definition = definition
        self.model = model
        self.outcomes = outcomes
    }

    public var name: String { model.machine }

    /// The bookings it accepted.
    public var bookings: [Booking] { outcomes.filter { $0.refusal == nil }.compactMap(\.booking) }
}

/// The booking a machine runs now, as the nights have recorded it.
public struct InstalledBooking: Codable, Equatable, Sendable {
    public var booking: String
    public var user: String
    public var firstDay: CalendarDay
    public var lastDay: CalendarDay

    public init(booking: String, user: String, firstDay: CalendarDay, lastDay: CalendarDay) {
        self.booking = booking
        self.user = user
        self.firstDay = firstDay
        self.lastDay = lastDay
    }

    public init(_ booking: Booking) {
        self.init(booking: booking.id, user: booking.account.name, firstDay: booking.firstDay, lastDay: booking.lastDay)
    }
}
