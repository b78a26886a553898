import Foundation
import ImagecCore
import ImageDSL

/// The package lock of a definition file (`systems/bigmem2.lock` beside
/// `systems/bigmem2.swift`): for each system, every package it installs with its exact
/// version and SHA-256. Meant to be committed and reviewed; `imagec build` installs exactly
/// what it says.
public struct PackageLock: Codable, Equatable, Sendable {
    public var lockVersion = 1
    /// Systems with the same request share a set (the ten workers of a file, say).
    public var sets: [PackageSet]

    public struct PackageSet: Codable, Equatable, Sendable {
        /// Host names of the systems this set is for.
        public var systems: [String]
        public var distribution: Distribution
        public var architecture: Architecture
        /// `host` for the build host's apt sources, else the SHA-256 of the declared ones.
        public var sources: String
        /// What was asked for (``SystemModel/requestedPackages``): the lock is stale when this changes.
        public var requested: [String]
        /// The newest release date of the sources when locked: the build's `SOURCE_DATE_EPOCH`.
        public var sourceDateEpoch: Int
        /// Each source's Release file the set was resolved against: where a snapshot archive
        /// finds the packages once they leave the sources. `nil` in locks written before it.
        public var releases: [Release]?
        public var packages: [LockedPackage]
    }

    /// A source's Release file at the time of locking, named without its mirror.
    public struct Release: Codable, Equatable, Sendable {
        /// The last part of the source's URI: `debian`, `debian-security`.
        public var archive: String
        public var suite: String
        /// The Release file's `Date:`, in seconds since 1970.
        public var date: Int

        public init(archive: String, suite: String, date: Int) {
            self.archive = archive
            self.suite = suite
            self.date = date
        }

        /// The date as the snapshot services write it: `20261120T021533Z`.
        public static func timestamp(_ date: Int) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
            return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(date)))
        }
    }

    public init(sets: [PackageSet]) { self.sets = sets }

    /// The lock file of a definition file.
    public static func url(for definition: URL) -> URL {
        definition.deletingPathExtension().appendingPathExtension("lock")
    }

    public static func read(from url: URL) throws -> PackageLock? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(PackageLock.self, from: data)
        } catch {
            throw DefinitionError(.invalid, [Diagnostic(
                "the lock file cannot be read (\(error)); run `imagec lock` to write it again", at: SourceLocation(file: url.path, line: 1))])
        }
    }

    /// Writes the lock atomically, in the canonical JSON form.
    public func write(to url: URL) throws {
        try CanonicalJSON.encode(value: self).write(to: url, options: .atomic)
    }

    /// `host`, or the SHA-256 of the sources a system declares.
    static func sourcesIdentity(of model: SystemModel) throws -> String {
        model.aptSources.isEmpty ? "host" : "sha256:" + CanonicalJSON.sha256(try CanonicalJSON.encode(value: model.aptSources))
    }

    /// The set for `model`, or an error saying how the lock differs from the definition.
    public func set(for model: SystemModel, lockFile: URL) throws -> PackageSet {
        let command = "run `imagec lock \(Self.definitionPath(for: lockFile))` to update it"
        let requested = model.requestedPackages
        // A bookable machine has a set for each combination of its options.
        let theirs = sets.filter { $0.systems.contains(model.hostName) }
        guard let set = theirs.first(where: { $0.requested == requested }) ?? theirs.first else {
            throw DefinitionError(.invalid, [Diagnostic(
                "the lock file has no packages for '\(model.hostName)'; \(command)", at: model.location(of: "system"))])
        }
        var differences: [String] = []
        let added = Set(requested).subtracting(set.requested).sorted()
        let removed = Set(set.requested).subtracting(requested).sorted()
        if !added.isEmpty { differences.append("added \(added.joined(separator: ", "))") }
        if !removed.isEmpty { differences.append("removed \(removed.joined(separator: ", "))") }
        if set.distribution != model.distribution || set.architecture != model.architecture {
            differences.append("distribution changed from \(set.distribution) \(set.architecture.rawValue)")
        }
        if set.sources != (try Self.sourcesIdentity(of: model)) { differences.append("apt sources changed") }
        guard differences.isEmpty else {
            throw DefinitionError(.invalid, [Diagnostic(
                "the lock file is out of date for '\(model.hostName)' (packages \(differences.joined(separator: "; "))); \(command)",
                at: model.location(of: "system"))])
        }
        return set
    }

    public static func definitionPath(for lockFile: URL) -> String {
        let current = FileManager.default.currentDirectoryPath + "/"
        let path = lockFile.deletingPathExtension().appendingPathExtension("swift").path
        return path.hasPrefix(current) ? String(path.dropFirst(current.count)) : path
    }
}
