import Foundation
import ImageDSL

/// A finding the lab has reviewed and accepts until a date: `CVE PACKAGE UNTIL REASON…` a line,
/// in a file kept with the definitions (`#` starts a comment). Past its date it reports again.
public struct Suppression: Sendable, Equatable {
    public var cve: String
    /// The source package.
    public var package: String
    public var until: CalendarDay
    public var reason: String
    /// `file:line`, for the report.
    public var location: String

    /// Reads a suppressions file; a bad line is named with its number.
    public static func read(_ path: String) throws -> [Suppression] {
        guard let data = FileManager.default.contents(atPath: path) else { throw AuditError("cannot read the suppressions file \(path)") }
        var suppressions: [Suppression] = []
        for (index, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true).map(String.init)
            let location = "\(path):\(index + 1)"
            guard fields.count == 4, fields[0].hasPrefix("CVE-"), let until = CalendarDay(fields[2]) else {
                throw AuditError("\(location): expected `CVE-YYYY-NNNN SOURCE-PACKAGE YYYY-MM-DD why it is accepted`, found '\(line)'")
            }
            suppressions.append(Suppression(cve: fields[0], package: fields[1], until: until, reason: fields[3], location: location))
        }
        return suppressions
    }
}
