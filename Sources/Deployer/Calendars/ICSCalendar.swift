import Foundation
import ImageDSL
import ImagecCore

/// A calendar exported as one iCalendar file: a path, or an `http(s)://` URL fetched with the
/// same rules as a CalDAV calendar.
public struct ICSCalendar: BookingCalendar {
    public var location: String
    public var credentials: Credentials?
    public var caFile: String?
    public var timeZone: String

    public init(location: String, credentials: Credentials? = nil, caFile: String? = nil, timeZone: String) {
        self.location = location
        self.credentials = credentials
        self.caFile = caFile
        self.timeZone = timeZone
    }

    public var description: String { "the calendar file \(location)" }

    public func events(from first: CalendarDay, through last: CalendarDay) throws -> CalendarRead {
        let text: String
        if location.hasPrefix("http://") || location.hasPrefix("https://") {
            let response: Curl.Response
            do {
                response = try Curl(url: location, credentials: credentials, caFile: caFile, timeout: 60).perform()
            } catch let error as CurlError {
                throw CalendarError("\(description) does not answer: \(error.reason)")
            }
            guard response.status == 200 else { throw CalendarError("\(description): HTTP \(response.status)") }
            text = response.text
        } else {
            guard let data = FileManager.default.contents(atPath: location) else { throw CalendarError("cannot read \(description)") }
            text = String(decoding: data, as: UTF8.self)
        }
        guard text.contains("BEGIN:VCALENDAR") else { throw CalendarError("\(description) is not an iCalendar file (no BEGIN:VCALENDAR)") }
        return try ICalendarReader(timeZone: timeZone, from: first, through: last).read(text, origin: location)
    }
}
