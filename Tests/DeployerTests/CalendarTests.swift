import Calendars
import Foundation
import ImageDSL
import Testing

/// iCalendar read by libical into whole days in the lab's time zone.
struct CalendarTests {
    static let paris = """
        BEGIN:VTIMEZONE\r
        TZID:Europe/Paris\r
        BEGIN:DAYLIGHT\r
        TZOFFSETFROM:+0100\r
        TZOFFSETTO:+0200\r
        TZNAME:CEST\r
        DTSTART:19700329T020000\r
        RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r
        END:DAYLIGHT\r
        BEGIN:STANDARD\r
        TZOFFSETFROM:+0200\r
        TZOFFSETTO:+0100\r
        TZNAME:CET\r
        DTSTART:19701025T030000\r
        RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r
        END:STANDARD\r
        END:VTIMEZONE\r

        """

    static func calendar(_ events: String) -> String {
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//GRR//imagec test//FR\r\n" + paris + events + "END:VCALENDAR\r\n"
    }

    static func day(_ text: String) -> CalendarDay { CalendarDay(text)! }

    @Test func eventsBecomeDaysInTheLabsZone() throws {
        let text = Self.calendar("""
            BEGIN:VEVENT\r
            UID:a1@grr\r
            DTSTART;TZID=Europe/Paris:20261207T000000\r
            DTEND;TZID=Europe/Paris:20261209T000000\r
            SUMMARY:élodie - bigmem2 (réservation validée par l'adm\r
             inistrateur)\r
            DESCRIPTION:MBBWorkflow: Oui\\nProjet: génomes\r
            LOCATION:bigmem2\r
            END:VEVENT\r
            BEGIN:VEVENT\r
            UID:a2@grr\r
            DTSTART;VALUE=DATE:20261210\r
            DTEND;VALUE=DATE:20261212\r
            SUMMARY:bob - bigmem2\r
            END:VEVENT\r
            BEGIN:VEVENT\r
            UID:dst@grr\r
            DTSTART;TZID=Europe/Paris:20261025T003000\r
            DTEND;TZID=Europe/Paris:20261026T000000\r
            SUMMARY:the day clocks go back\r
            END:VEVENT\r
            BEGIN:VEVENT\r
            UID:utc@grr\r
            DTSTART:20261215T233000Z\r
            DTEND:20261216T010000Z\r
            SUMMARY:after midnight in Paris\r
            END:VEVENT\r
            BEGIN:VEVENT\r
            UID:later@grr\r
            DTSTART;VALUE=DATE:20270201\r
            SUMMARY:outside the days asked for\r
            END:VEVENT\r

            """)
        let read = try ICalendarReader(timeZone: "Europe/Paris", from: Self.day("2026-10-20"), through: Self.day("2026-12-31")).read(text, origin: "test.ics")
        #expect(read.skipped == [])
        #expect(read.events == [
            CalendarEvent(id: "a1@grr", summary: "élodie - bigmem2 (réservation validée par l'administrateur)",
                          description: "MBBWorkflow: Oui\nProjet: génomes", location: "bigmem2", firstDay: Self.day("2026-12-07"), lastDay: Self.day("2026-12-08")),
            CalendarEvent(id: "a2@grr", summary: "bob - bigmem2", firstDay: Self.day("2026-12-10"), lastDay: Self.day("2026-12-11")),
            // 22:30 UTC to 23:00 UTC the next day: one day in Paris, whose offset changed in between.
            CalendarEvent(id: "dst@grr", summary: "the day clocks go back", firstDay: Self.day("2026-10-25"), lastDay: Self.day("2026-10-25")),
            CalendarEvent(id: "utc@grr", summary: "after midnight in Paris", firstDay: Self.day("2026-12-16"), lastDay: Self.day("2026-12-16")),
        ])
        #expect(read.events[0].fields == ["MBBWorkflow": "Oui", "Projet": "génomes"])
        // In UTC the last one is the evening of the 15th.
        let utc = try ICalendarReader(timeZone: "UTC", from: Self.day("2026-12-15"), through: Self.day("2026-12-15")).read(text, origin: "test.ics")
        #expect(utc.events.map(\.id) == ["utc@grr"] && utc.events[0].firstDay == Self.day("2026-12-15"))
    }

    @Test func recurringEventsExceptionsAndMovedOccurrences() throws {
        let text = Self.calendar("""
            BEGIN:VEVENT\r
            UID:weekly@grr\r
            DTSTART;VALUE=DATE:20261130\r
            DTEND;VALUE=DATE:20261202\r
            RRULE:FREQ=WEEKLY;COUNT=4\r
            EXDATE;VALUE=DATE:20261214\r
            SUMMARY:carol - gpu1\r
            END:VEVENT\r
            BEGIN:VEVENT\r
            UID:weekly@grr\r
            RECURRENCE-ID;VALUE=DATE:20261207\r
            DTSTART;VALUE=DATE:20261208\r
            DTEND;VALUE=DATE:20261209\r
            SUMMARY:carol - gpu1 (moved)\r
            END:VEVENT\r

            """)
        let read = try ICalendarReader(timeZone: "Europe/Paris", from: Self.day("2026-11-01"), through: Self.day("2026-12-31")).read(text, origin: "test.ics")
        #expect(read.events == [
            CalendarEvent(id: "weekly@grr/2026-11-30", summary: "carol - gpu1", firstDay: Self.day("2026-11-30"), lastDay: Self.day("2026-12-01")),
            CalendarEvent(id: "weekly@grr/2026-12-21", summary: "carol - gpu1", firstDay: Self.day("2026-12-21"), lastDay: Self.day("2026-12-22")),
            CalendarEvent(id: "weekly@grr/2026-12-07", summary: "carol - gpu1 (moved)", firstDay: Self.day("2026-12-08"), lastDay: Self.day("2026-12-08")),
        ])
    }

    @Test func cancelledAndBrokenEventsAreSkippedWithTheirReason() throws {
        let text = Self.calendar("""
            BEGIN:VEVENT\r
            UID:cancelled@grr\r
            DTSTART;VALUE=DATE:20261207\r
            STATUS:CANCELLED\r
            SUMMARY:dave - bigmem2\r
            END:VEVENT\r
            BEGIN:VEVENT\r
            UID:broken@grr\r
            DTSTART:2026120\r
            SUMMARY:eve - bigmem2\r
            END:VEVENT\r
            BEGIN:VEVENT\r
            DTSTART;VALUE=DATE:20261207\r
            SUMMARY:no uid\r
            END:VEVENT\r

            """)
        let read = try ICalendarReader(timeZone: "Europe/Paris", from: Self.day("2026-12-07"), through: Self.day("2026-12-07")).read(text, origin: "test.ics")
        #expect(read.events == [])
        #expect(read.skipped == [
            SkippedEvent(id: "cancelled@grr", summary: "dave - bigmem2", firstDay: Self.day("2026-12-07"), reason: "the event is cancelled (STATUS:CANCELLED)"),
            SkippedEvent(id: "broken@grr", summary: "eve - bigmem2",
                         reason: "broken iCalendar: Can't parse as DATE-TIME value in DTSTART property. Removing entire property: 2026120"),
            SkippedEvent(id: "test.ics", summary: "no uid", reason: "the event has no UID"),
        ])
        let garbage = try ICalendarReader(timeZone: "Europe/Paris", from: Self.day("2026-12-07"), through: Self.day("2026-12-07")).read("hello", origin: "x.ics")
        #expect(garbage.skipped == [SkippedEvent(id: "x.ics", summary: "", reason: "broken iCalendar: libical cannot parse it")])
        #expect(throws: CalendarError.self) { try ICalendarReader(timeZone: "Mars/Olympus", from: Self.day("2026-12-07"), through: Self.day("2026-12-07")).read(text, origin: "x") }
    }
}
