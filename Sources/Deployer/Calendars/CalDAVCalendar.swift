import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ImageDSL
import ImagecCore

/// A CalDAV calendar collection (RFC 4791): NextCloud's, Radicale's. One `REPORT`
/// calendar-query asks for the events of the days wanted (a time range: the server expands
/// nothing, imagec reads recurring events itself), with Basic authentication; HTTPS
/// certificates are checked against the system's CA bundle or `caFile`.
public struct CalDAVCalendar: BookingCalendar {
    /// The collection, such as `https://cloud.lab.example/remote.php/dav/calendars/imagec/bigmems/`.
    public var url: String
    public var credentials: Credentials?
    public var caFile: String?
    public var timeZone: String
    public var timeout: Double = 60

    public init(url: String, credentials: Credentials?, caFile: String? = nil, timeZone: String) {
        self.url = url
        self.credentials = credentials
        self.caFile = caFile
        self.timeZone = timeZone
    }

    public var description: String { "the CalDAV calendar \(url)" }

    public func events(from first: CalendarDay, through last: CalendarDay) throws -> CalendarRead {
        // A day's margin each side: the range is in UTC, the days in the lab's zone.
        func stamp(_ day: CalendarDay) -> String { day.description.replacingOccurrences(of: "-", with: "") + "T000000Z" }
        let query = """
            <?xml version="1.0" encoding="utf-8"?>
            <C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
              <D:prop><D:getetag/><C:calendar-data/></D:prop>
              <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
                <C:time-range start="\(stamp(first.adding(days: -1)))" end="\(stamp(last.adding(days: 2)))"/>
              </C:comp-filter></C:comp-filter></C:filter>
            </C:calendar-query>

            """
        let response: Curl.Response
        do {
            response = try Curl(url: url, method: "REPORT", headers: ["Depth: 1", "Content-Type: application/xml; charset=utf-8"],
                                body: Data(query.utf8), credentials: credentials, caFile: caFile, timeout: timeout).perform()
        } catch let error as CurlError {
            throw CalendarError("\(description) does not answer: \(error.reason)")
        }
        switch response.status {
        case 207: break
        case 401, 403:
            throw CalendarError("\(description) refused \(credentials.map { "user '\($0.user)'" } ?? "a request without credentials") (HTTP \(response.status)): check its credentials file")
        case 404: throw CalendarError("\(description) does not exist (HTTP 404): check the calendar's URL")
        default: throw CalendarError("\(description) answered HTTP \(response.status) to a calendar query: \(response.text.prefix(200))")
        }
        let resources = try MultiStatus.resources(in: response.body, from: description)
        let reader = ICalendarReader(timeZone: timeZone, from: first, through: last)
        return try resources.reduce(CalendarRead()) { read, resource in
            guard let data = resource.calendarData else {
                return read + CalendarRead(skipped: [SkippedEvent(id: resource.href, summary: "", reason: "the server gave no calendar data (\(resource.status))")])
            }
            return read + (try reader.read(data, origin: resource.href))
        }
    }
}

/// The resources of a WebDAV multi-status answer (RFC 4918): each `href` with its
/// `calendar-data`.
struct MultiStatus {
    struct Resource {
        var href = ""
        var status = ""
        var calendarData: String?
    }

    static func resources(in body: Data, from origin: String) throws -> [Resource] {
        let delegate = Delegate()
        let parser = XMLParser(data: body)
        parser.shouldProcessNamespaces = true
        parser.delegate = delegate
        guard parser.parse() else {
            throw CalendarError("\(origin) answered a multi-status that is not XML: \(parser.parserError.map { "\($0)" } ?? "unreadable")")
        }
        return delegate.resources
    }

    private final class Delegate: NSObject, XMLParserDelegate {
        var resources: [Resource] = []
        private var current: Resource?
        private var text = ""

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if name == "response" && namespaceURI == "DAV:" { current = Resource() }
            text = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, foundCDATA block: Data) { text += String(decoding: block, as: UTF8.self) }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            switch (namespaceURI, name) {
            case ("DAV:", "href") where current?.href.isEmpty == true: current?.href = text.trimmingCharacters(in: .whitespacesAndNewlines)
            case ("DAV:", "status"): current?.status = text.trimmingCharacters(in: .whitespacesAndNewlines)
            case ("urn:ietf:params:xml:ns:caldav", "calendar-data"): current?.calendarData = text
            case ("DAV:", "response"):
                if let current { resources.append(current) }
                current = nil
            default: break
            }
            text = ""
        }
    }
}
