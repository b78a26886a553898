/// What a bookable definition made of one calendar event: the request it read, the booking it
/// accepted for its machine (and, for a booking starting the night asked for, the booked
/// system), or why it refused the event.
public struct BookingOutcome: Codable, Equatable, Sendable {
    public var event: CalendarEvent
    /// What `parse` read; `nil` when it refused the event.
    public var request: BookingRequest?
    /// The booking, when the event is for this definition's machine and was accepted.
    public var booking: Booking?
    public var refusal: String?
    /// The booked system, for a booking that covers the night asked for.
    public var system: SystemModel?
    /// Problems of the booked system, at their lines (the booking is refused when one is an error).
    public var diagnostics: [Diagnostic]

    public init(event: CalendarEvent, request: BookingRequest? = nil, booking: Booking? = nil, refusal: String? = nil,
                system: SystemModel? = nil, diagnostics: [Diagnostic] = []) {
        self.event = event
        self.request = request
        self.booking = booking
        self.refusal = refusal
        self.system = system
        self.diagnostics = diagnostics
    }
}

/// What imagec hands a bookable definition: the calendar's events, and the night whose
/// bookings become systems.
public struct BookingInput: Codable, Hashable, Sendable {
    public var night: CalendarDay
    public var events: [CalendarEvent]

    public init(night: CalendarDay, events: [CalendarEvent]) {
        self.night = night
        self.events = events
    }
}
