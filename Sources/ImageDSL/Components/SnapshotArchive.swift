/// A snapshot service of the package archive, where a build finds a locked package that has
/// left the apt sources: a URL template in the Debian snapshot service's layout, with
/// `{archive}` (the last part of the apt source's URI: `debian`, `debian-security`) and
/// `{timestamp}` (the time of the Release file the lock was resolved against, such as
/// `20261120T000000Z`).
///
/// ```swift
/// SnapshotArchive("https://snapshot.lab.example/archive/{archive}/{timestamp}/")
/// ```
///
/// Declared once in a site template, it applies to every system inheriting it. Like
/// `Deployment`, it does not change the image: only where its packages may come from.
public struct SnapshotArchive: SystemComponent {
    public var template: String

    public init(_ template: String) { self.template = template }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.upsert(template, into: \.snapshotArchives, key: "snapshotArchive:\(template)", at: location) { $0 == template }
    }

    /// The URL of the snapshot of `archive` at `timestamp`, ending with a slash.
    public static func url(template: String, archive: String, timestamp: String) -> String {
        let url = template.replacingOccurrences(of: "{archive}", with: archive).replacingOccurrences(of: "{timestamp}", with: timestamp)
        return url.hasSuffix("/") ? url : url + "/"
    }
}
