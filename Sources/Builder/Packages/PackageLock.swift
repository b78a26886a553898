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
        /// The set split along the system's templates, bottom to top (``PackageLayering``):
        /// each layer is a store entry shared by the systems with the same chain. `nil` in locks
        /// written before layers: the set is one layer.
        public var layers: [Layer]?

        /// The layers, or the whole set as one layer in a lock written before layers.
        public var effectiveLayers: [Layer] {
            layers ?? [Layer(stage: "", requested: requested, packages: packages.map(\.name), sourceDateEpoch: sourceDateEpoch)]
        }

        /// The packages of each layer, bottom to top.
        public var layerPackages: [[LockedPackage]] {
            let byName = Dictionary(packages.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            return effectiveLayers.map { $0.packages.compactMap { byName[$0] } }
        }
    }

    /// What one template (or the system) installs on top of the layers below it.
    public struct Layer: Codable, Equatable, Sendable {
        /// Where the template's (or system's) definition starts: `templates/Lab.swift:38`.
        public var stage: String
        /// Everything that stage asks for: the lock is stale when it changes.
        public var requested: [String]
        /// The names (of the set's packages) this layer adds, sorted.
        public var packages: [String]
        /// The layer's `SOURCE_DATE_EPOCH`: the set's when it was locked, kept while the layer
        /// and those below it stay the same (so adding a package on top rebuilds only the top).
        public var sourceDateEpoch: Int

        public init(stage: String, requested: [String], packages: [String], sourceDateEpoch: Int) {
            self.stage = stage
            self.requested = requested
            self.packages = packages
            self.sourceDateEpoch = sourceDateEpoch
        }
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
        if let layers = set.layers {
            // Each package in exactly one layer: a package in none would be missing from the image.
            let names = layers.flatMap(\.packages)
            guard Set(names).count == names.count, Set(names) == Set(set.packages.map(\.name)) else {
                throw DefinitionError(.invalid, [Diagnostic(
                    "the lock file's layers for '\(model.hostName)' do not hold each of its packages once; \(command)",
                    at: SourceLocation(file: lockFile.path, line: 1))])
            }
        }
        if differences.isEmpty, let layers = set.layers {
            let stages = PackageLayering.stages(of: model)
            let locked = layers.map(\.requested), now = stages.map(\.requested)
            if locked != now {
                let moved = stages.first { !locked.contains($0.requested) }.map { PackageLayering.label($0.location) }
                differences.append("of a template changed\(moved.map { " (\($0))" } ?? "")")
            }
        }
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
