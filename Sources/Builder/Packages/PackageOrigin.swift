import Foundation
import ImagecCore
import ImageDSL

/// A place a locked .deb can come from besides the store's own cache: the shared store, an apt
/// source, a snapshot archive. `DebCache.fetch` tries them in order, each for what the ones
/// before it lacked.
public protocol PackageOrigin: Sendable {
    /// How progress and errors name it: `the apt source http://mirror.lab.example/debian`.
    var description: String { get }
    /// Whether progress names each package it supplies (a fallback, not the usual source).
    var isFallback: Bool { get }
    /// Writes what it has of `packages` into `folder` as `<sha256>.deb` and returns why each one
    /// it could not supply is missing, by SHA-256. The cache checks every file it is given
    /// against the lock's SHA-256.
    func fetch(_ packages: [LockedPackage], into folder: URL) throws -> [String: String]
}

/// An archive over http(s) or file: a locked package is its `path` below `base`. Downloads go
/// through apt's own acquire methods (`apt-helper download-file`), so the build host's apt
/// proxy settings apply, with a time limit per connection and no retries: a source that does
/// not answer fails in bounded time and the next origin is tried.
public struct ArchiveOrigin: PackageOrigin {
    public var base: String
    public var description: String
    public var isFallback: Bool
    /// Seconds a connection may stay silent (`$IMAGEC_FETCH_TIMEOUT`, default 20).
    public var timeout: Int

    public init(base: String, description: String, isFallback: Bool) {
        self.base = base.hasSuffix("/") ? base : base + "/"
        self.description = description
        self.isFallback = isFallback
        timeout = ProcessInfo.processInfo.environment["IMAGEC_FETCH_TIMEOUT"].flatMap(Int.init) ?? 20
    }

    /// Each URI of the sources, in their order.
    public static func aptSources(_ sources: [AptSource]) -> [ArchiveOrigin] {
        var seen = Set<String>()
        return sources.flatMap(\.uris).filter { seen.insert($0).inserted }
            .map { ArchiveOrigin(base: $0, description: "the apt source \($0)", isFallback: false) }
    }

    /// Each snapshot of each template, at the time of each archive's Release file, then half a
    /// day later: a snapshot service serves the newest snapshot at or before a time, which may
    /// predate the Release file's publication by some hours.
    public static func snapshots(_ templates: [String], releases: [PackageLock.Release]) -> [ArchiveOrigin] {
        var seen = Set<String>()
        return templates.flatMap { template in
            releases.flatMap { release in
                [release.date, release.date + 12 * 3600].map {
                    SnapshotArchive.url(template: template, archive: release.archive, timestamp: PackageLock.Release.timestamp($0))
                }
            }
        }.filter { seen.insert($0).inserted }
            .map { ArchiveOrigin(base: $0, description: "the snapshot archive \($0)", isFallback: true) }
    }

    public func fetch(_ packages: [LockedPackage], into folder: URL) throws -> [String: String] {
        var arguments = [
            "-o", "Acquire::Retries=0", "-o", "Acquire::http::Timeout=\(timeout)", "-o", "Acquire::https::Timeout=\(timeout)",
            "-o", "APT::Sandbox::User=root", "download-file",
        ]
        var byURI: [String: LockedPackage] = [:]
        for package in packages {
            let uri = base + package.path
            byURI[uri] = package
            arguments += [uri, folder.appendingPathComponent("\(package.sha256).deb").path, "SHA256:\(package.sha256)"]
        }
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C"
        let result = try Command(executable: "/usr/lib/apt/apt-helper", arguments: arguments, environment: environment)
            .run(timeout: 3600, outputFile: folder.appendingPathComponent("apt-helper-\(UUID().uuidString.prefix(8)).txt"))
        // apt prints `Err:N URI` and, indented below, why.
        var reasons: [String: String] = [:]
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() where line.hasPrefix("Err:") {
            let words = line.split(separator: " ")
            guard words.count >= 2, let package = byURI[String(words[1])] else { continue }
            let reason = lines.indices.contains(index + 1) ? lines[index + 1].trimmingCharacters(in: .whitespaces) : ""
            reasons[package.sha256] = reason.hasPrefix("Hash Sum mismatch") ? "its SHA-256 differs from the lock's" : reason
        }
        for package in packages where !FileManager.default.fileExists(atPath: folder.appendingPathComponent("\(package.sha256).deb").path) {
            if reasons[package.sha256] == nil {
                reasons[package.sha256] = result.timedOut ? "no answer" : "not downloaded (apt-helper exited with status \(result.status))"
            }
        }
        return reasons
    }
}
