/// A booking as the calendar holds it: one event, or one occurrence of a recurring event,
/// read by imagec (time zones, all-day and recurring events resolved) and handed to the
/// ``Bookable``'s `parse` function.
///
/// A booking covers whole days in the lab's time zone, from ``firstDay`` to ``lastDay``
/// included: an all-day event from the 7th to the 9th (`DTEND` excluded) covers the 7th and
/// the 8th, and so does an event from the 7th at midnight to the 9th at midnight.
public struct CalendarEvent: Codable, Hashable, Sendable {
    /// The event's `UID`, and for an occurrence of a recurring event the day it was
    /// scheduled (its `RECURRENCE-ID`): `3f2a…@grr.lab.example/2026-12-07`.
    public var id: String
    public var summary: String
    public var description: String
    public var location: String
    public var firstDay: CalendarDay
    public var lastDay: CalendarDay

    public init(id: String, summary: String, description: String = "", location: String = "", firstDay: CalendarDay, lastDay: CalendarDay) {
        self.id = id
        self.summary = summary
        self.description = description
        self.location = location
        self.firstDay = firstDay
        self.lastDay = lastDay
    }

    /// The description's `Name: value` lines (GRR writes a booking's form fields so):
    /// names and values trimmed, the first of a repeated name kept.
    public var fields: [String: String] {
        var fields: [String: String] = [:]
        for line in description.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingSpaces, value = line[line.index(after: colon)...].trimmingSpaces
            if !name.isEmpty, fields[name] == nil { fields[name] = value }
        }
        return fields
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}
