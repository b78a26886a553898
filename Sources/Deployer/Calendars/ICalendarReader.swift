import CICal
import CLibraryLoader
import Foundation
import ImageDSL

/// Reads iCalendar text (RFC 5545) with libical into the bookings it holds: time zones (an
/// event's `TZID` and the calendar's `VTIMEZONE`s, daylight saving included), all-day events,
/// events over several days, recurring events (`RRULE`, `EXDATE`, and occurrences moved by a
/// `RECURRENCE-ID`), folded lines and UTF-8. Each event becomes whole days in the lab's time
/// zone (see ``CalendarEvent``); only those that touch the days asked for are kept.
///
/// An event libical could not fully parse (it reports what it dropped as `X-LIC-ERROR`) or
/// that is cancelled is skipped with the reason, never half used.
public struct ICalendarReader: Sendable {
    /// The lab's time zone, as the tz database names it (`Europe/Paris`).
    public var timeZone: String
    public var firstDay: CalendarDay
    public var lastDay: CalendarDay

    public init(timeZone: String, from firstDay: CalendarDay, through lastDay: CalendarDay) {
        self.timeZone = timeZone
        self.firstDay = firstDay
        self.lastDay = lastDay
    }

    /// Reads one calendar object (a file, or one CalDAV resource); `origin` names it in the
    /// reasons of what is skipped.
    public func read(_ text: String, origin: String) throws -> CalendarRead {
        if let error = imagec_load_ical() { throw CalendarError("cannot load libical (apt-get install libical3): \(String(cString: error))") }
        guard let zone = icaltimezone_get_builtin_timezone(timeZone) else {
            throw CalendarError("the time zone '\(timeZone)' is not in the tz database: name one such as Europe/Paris")
        }
        guard let root = text.withCString({ icalparser_parse_string($0) }) else {
            return CalendarRead(skipped: [SkippedEvent(id: origin, summary: "", reason: "broken iCalendar: libical cannot parse it")])
        }
        defer { icalcomponent_free(root) }
        let events = Self.components(of: root, kind: ICAL_VEVENT_COMPONENT)
        if events.isEmpty {
            let reason = Self.errors(of: root).first.map { "broken iCalendar: \($0)" } ?? "no event (VEVENT) in it"
            return CalendarRead(skipped: [SkippedEvent(id: origin, summary: "", reason: reason)])
        }
        var read = CalendarRead()
        // Occurrences moved or changed by an event of their own (RECURRENCE-ID), by UID.
        var moved: [String: Set<Int>] = [:]
        for event in events where !icaltime_is_null_time(icalcomponent_get_recurrenceid(event)).isTrue {
            let id = icalcomponent_get_recurrenceid(event)
            moved[Self.string(icalcomponent_get_uid(event)), default: []].insert(Self.seconds(id, zone: id.zone ?? Self.utc))
        }
        for event in events {
            let uid = Self.string(icalcomponent_get_uid(event)), summary = Self.string(icalcomponent_get_summary(event))
            if let error = Self.errors(of: event).first {
                read.skipped.append(SkippedEvent(id: uid.isEmpty ? origin : uid, summary: summary, reason: "broken iCalendar: \(error)"))
                continue
            }
            if uid.isEmpty {
                read.skipped.append(SkippedEvent(id: origin, summary: summary, reason: "the event has no UID"))
                continue
            }
            let start = icalcomponent_get_dtstart(event)
            guard !icaltime_is_null_time(start).isTrue else {
                read.skipped.append(SkippedEvent(id: uid, summary: summary, reason: "the event has no start (DTSTART)"))
                continue
            }
            let occurrences = self.occurrences(of: event, start: start, zone: zone, moved: moved[uid] ?? [])
            guard !occurrences.isEmpty else { continue }
            if icalcomponent_get_status(event) == ICAL_STATUS_CANCELLED {
                read.skipped += occurrences.map { occurrence in
                    SkippedEvent(id: occurrence.recurrence.map { "\(uid)/\($0)" } ?? uid, summary: summary, firstDay: occurrence.first,
                                 reason: "the event is cancelled (STATUS:CANCELLED)")
                }
                continue
            }
            for occurrence in occurrences {
                read.events.append(CalendarEvent(
                    id: occurrence.recurrence.map { "\(uid)/\($0)" } ?? uid, summary: summary,
                    description: Self.string(icalcomponent_get_description(event)), location: Self.string(icalcomponent_get_location(event)),
                    firstDay: occurrence.first, lastDay: occurrence.last))
            }
        }
        return read
    }

    struct Occurrence {
        var first: CalendarDay
        var last: CalendarDay
        /// The day it was scheduled on, for an occurrence of a recurring event.
        var recurrence: CalendarDay?
    }

    /// The event's occurrences that touch the days asked for, as days in the lab's zone.
    private func occurrences(of event: OpaquePointer, start: icaltimetype, zone: OpaquePointer, moved: Set<Int>) -> [Occurrence] {
        let allDay = start.is_date != 0
        // Floating times (no zone, not UTC) are the lab's wall clock: libical reads them as UTC.
        let startZone = start.zone ?? Self.utc
        let dayZone = allDay || start.zone == nil ? Self.utc : zone
        let end = icalcomponent_get_dtend(event)
        let length = icaltime_is_null_time(end).isTrue ? (allDay ? 86400 : 0) : Self.seconds(end, zone: end.zone ?? startZone) - Self.seconds(start, zone: startZone)
        let recurring = Self.hasProperty(event, ICAL_RRULE_PROPERTY) || Self.hasProperty(event, ICAL_RDATE_PROPERTY)
        let isOverride = !icaltime_is_null_time(icalcomponent_get_recurrenceid(event)).isTrue

        // A margin of a day each side: the window is in the lab's days, libical's in UTC.
        let window = (icaltimetype(firstDay.adding(days: -1)), icaltimetype(lastDay.adding(days: 2)))
        final class Starts { var values: [Int] = [] }
        let starts = Starts()
        if recurring && !isOverride {
            icalcomponent_foreach_recurrence(event, window.0, window.1, { _, span, context in
                Unmanaged<Starts>.fromOpaque(context!).takeUnretainedValue().values.append(Int(span!.pointee.start))
            }, Unmanaged.passUnretained(starts).toOpaque())
        } else {
            starts.values = [Self.seconds(start, zone: startZone)]
        }
        return starts.values.filter { !moved.contains($0) || !recurring || isOverride }.compactMap { seconds in
            let first = Self.day(seconds, zone: dayZone)
            let last = allDay ? first.adding(days: max(1, (length + 86399) / 86400) - 1)
                : max(first, Self.day(seconds + max(length, 1) - 1, zone: dayZone))
            guard first <= lastDay, last >= firstDay else { return nil }
            let recurrence: CalendarDay? = isOverride ? Self.day(Self.seconds(icalcomponent_get_recurrenceid(event), zone: startZone), zone: dayZone)
                : recurring ? first : nil
            return Occurrence(first: first, last: last, recurrence: recurrence)
        }
    }

    // MARK: - libical

    static var utc: OpaquePointer { icaltimezone_get_utc_timezone() }

    static func components(of root: OpaquePointer, kind: icalcomponent_kind) -> [OpaquePointer] {
        if icalcomponent_isa(root) == kind { return [root] }
        var found: [OpaquePointer] = []
        var child = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT)
        while let component = child {
            found += components(of: component, kind: kind)
            child = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)
        }
        return found
    }

    /// What libical could not parse in `component` and dropped (its `X-LIC-ERROR`s). An empty
    /// property (`DESCRIPTION:`, which exports write) means what its absence means: not an error.
    static func errors(of component: OpaquePointer) -> [String] {
        var errors: [String] = []
        var property = icalcomponent_get_first_property(component, ICAL_XLICERROR_PROPERTY)
        while let found = property {
            let error = string(icalproperty_get_xlicerror(found))
            if !error.hasPrefix("No value for ") { errors.append(error) }
            property = icalcomponent_get_next_property(component, ICAL_XLICERROR_PROPERTY)
        }
        return errors
    }

    static func hasProperty(_ component: OpaquePointer, _ kind: icalproperty_kind) -> Bool {
        icalcomponent_get_first_property(component, kind) != nil
    }

    static func seconds(_ time: icaltimetype, zone: OpaquePointer) -> Int { Int(icaltime_as_timet_with_zone(time, zone)) }

    static func day(_ seconds: Int, zone: OpaquePointer) -> CalendarDay {
        let time = icaltime_from_timet_with_zone(time_t(seconds), 0, zone)
        return CalendarDay(year: Int(time.year), month: Int(time.month), day: Int(time.day)) ?? CalendarDay(daysSince1970: seconds / 86400)
    }

    static func string(_ pointer: UnsafePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }
}

extension icaltimetype {
    /// Midnight UTC of `day`.
    init(_ day: CalendarDay) {
        self.init(year: Int32(day.year), month: Int32(day.month), day: Int32(day.day), hour: 0, minute: 0, second: 0,
                  is_date: 0, is_daylight: 0, zone: ICalendarReader.utc)
    }
}

extension Int32 {
    var isTrue: Bool { self != 0 }
}
