import ImageDSL

/// Where the lab's bookings are: a CalDAV calendar (``CalDAVCalendar``) or an iCalendar file
/// or URL (``ICSCalendar``).
public protocol BookingCalendar: Sendable {
    /// The events that touch the days from `first` through `last`, as whole days in the
    /// lab's time zone.
    ///
    /// - Throws: ``CalendarError`` when the calendar cannot be read at all (it does not
    ///   answer, refuses the credentials, or answers something that is not a calendar).
    func events(from first: CalendarDay, through last: CalendarDay) throws -> CalendarRead

    /// Where it is, for messages (without credentials).
    var description: String { get }
}
