import ImageDSL

/// What a calendar gave for some days: the events imagec could read, and those it could not
/// use, each with the reason (a cancelled event, an event libical could not parse).
public struct CalendarRead: Codable, Equatable, Sendable {
    public var events: [CalendarEvent]
    public var skipped: [SkippedEvent]

    public init(events: [CalendarEvent] = [], skipped: [SkippedEvent] = []) {
        self.events = events
        self.skipped = skipped
    }

    /// Both reads together.
    public static func + (a: CalendarRead, b: CalendarRead) -> CalendarRead {
        CalendarRead(events: a.events + b.events, skipped: a.skipped + b.skipped)
    }
}

/// An event, or a calendar object, imagec could not use as a booking, and why.
public struct SkippedEvent: Codable, Equatable, Sendable {
    /// The event's UID, or where it was found when it has none (a CalDAV resource's href).
    public var id: String
    public var summary: String
    /// Its first day, when it has one that could be read.
    public var firstDay: CalendarDay?
    public var reason: String

    public init(id: String, summary: String, firstDay: CalendarDay? = nil, reason: String) {
        self.id = id
        self.summary = summary
        self.firstDay = firstDay
        self.reason = reason
    }
}
