import DefinitionEvaluation
import Foundation
import ImagecCore
import ImageDSL

/// Resolves the full package set of each system of a definition against its apt sources (the
/// build host's by default) and writes the lock file beside the definition.
public struct Locker: Sendable {
    /// Where the private apt configurations go (removed afterwards).
    public var scratchRoot = FileManager.default.temporaryDirectory

    public init() {}

    /// What a lock changed, set by set.
    public struct Change: Sendable {
        /// Host names of the systems of the set.
        public var systems: [String]
        /// The packages that moved, came or went (empty: the set is as it was).
        public var packages: [PackageChange]
    }

    /// Locks every system of `evaluation`, and every variant of its bookable machine (each
    /// combination of its booking options); reports each step through `progress`.
    ///
    /// With `keeping` (`imagec lock --update`), each package of that lock keeps its version as
    /// long as the sources still serve it and no other package's new version forces it to
    /// move: only what left the archive, what the definition added or dropped, and what their
    /// dependencies force change.
    ///
    /// A layer that is the same as one of `known` (the other locks beside it, say: the same
    /// packages on the same layers below) keeps that layer's date, so the systems share it.
    @discardableResult
    public func lock(
        _ evaluation: Evaluation, keeping previous: PackageLock? = nil, alongside known: [PackageLock] = [],
        progress: ProgressReporter = .silent
    ) throws -> (lock: PackageLock, url: URL, changes: [Change]) {
        struct Key: Hashable {
            var distribution: Distribution, architecture: Architecture, sources: [AptSource], requested: [String]
            var stages: [[String]]
        }
        var groups: [(key: Key, systems: [SystemModel])] = []
        for system in evaluation.systems.map(\.model) + evaluation.variants {
            let key = Key(
                distribution: system.distribution, architecture: system.architecture,
                sources: system.aptSources, requested: system.requestedPackages,
                stages: PackageLayering.stages(of: system).map(\.requested))
            if let index = groups.firstIndex(where: { $0.key == key }) {
                if !groups[index].systems.contains(where: { $0.hostName == system.hostName }) { groups[index].systems.append(system) }
            } else {
                groups.append((key, [system]))
            }
        }

        let scratch = scratchRoot.appendingPathComponent("imagec-lock-\(UUID().uuidString)")
        Interruption.removeOnInterrupt(scratch)
        defer {
            try? FileManager.default.removeItem(at: scratch)
            Interruption.forget(scratch)
        }
        var sets: [PackageLock.PackageSet] = []
        var changes: [Change] = []
        for (index, group) in groups.enumerated() {
            let first = group.systems[0]
            let sources = first.aptSources.isEmpty ? HostAptSources.read(for: first.distribution.release) : first.aptSources
            guard !sources.isEmpty else {
                throw BuildEnvironmentError("the build host has no apt sources (/etc/apt/sources.list*) and the system declares none")
            }
            let described = "\(first.distribution) \(first.architecture.rawValue)"
                + (first.aptSources.isEmpty ? " (the build host's apt sources)" : "")
            let apt = try PrivateApt(root: scratch.appendingPathComponent("apt\(index)"), sources: sources, architecture: first.architecture)
            let started = Date()
            progress("updating package lists for \(described)")
            try apt.update()
            let index = try PackageIndex(lists: apt.packageLists)
            let unknown = group.key.requested.filter { !index.contains($0) }
            if !unknown.isEmpty {
                throw DefinitionError(.invalid, unknown.map { name in
                    Diagnostic("package '\(name)' is not in the apt sources for \(described)",
                               at: first.location(of: "package:\(name)"))
                })
            }
            progress("resolving \(group.key.requested.count) packages for \(group.systems.map(\.hostName).joined(separator: ", "))")
            let names = index.essential.sorted() + group.key.requested
            // The set these systems had: the one with the same request, else any of theirs.
            func theirs(_ set: PackageLock.PackageSet) -> Bool { group.systems.contains { set.systems.contains($0.hostName) } }
            let before = previous?.sets.first { theirs($0) && $0.requested == group.key.requested } ?? previous?.sets.first(where: theirs)
            var packages: [LockedPackage]
            if let before {
                let served = before.packages.filter(index.serves)
                let gone = before.packages.filter { !index.serves($0) }
                if !gone.isEmpty {
                    progress("no longer in the sources: \(gone.map { "\($0.name) \($0.version)" }.joined(separator: ", "))")
                }
                packages = try resolve(names, keeping: served, with: apt, progress: progress)
            } else {
                packages = try apt.resolve(names)
            }
            packages = packages.map(index.withSource)
            let releases = apt.releases()
            progress("locked \(packages.count) packages in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
            let versions = { (packages: [LockedPackage]) in
                Dictionary(packages.map { ($0.name, $0.version) }, uniquingKeysWith: { a, _ in a })
            }
            let moved = PackageChange.between(versions(before?.packages ?? []), versions(packages))
            let systems = group.systems.map(\.hostName).sorted()
            func withoutSources(_ packages: [LockedPackage]) -> [LockedPackage] {
                packages.map { var package = $0; package.source = nil; package.sourceVersion = nil; return package }
            }
            let knownSets = (before.map { [$0] } ?? []) + known.flatMap(\.sets)
            func layered(_ set: PackageLock.PackageSet) -> PackageLock.PackageSet {
                var set = set
                set.layers = PackageLayering.layers(
                    of: packages, stages: PackageLayering.stages(of: first), essential: index.essential, relations: index.relations,
                    sourceDateEpoch: set.sourceDateEpoch, known: knownSets)
                // A layer dated by another lock may be newer: no file of the image is newer than the set.
                set.sourceDateEpoch = ([set.sourceDateEpoch] + set.layers!.map(\.sourceDateEpoch)).max()!
                return set
            }
            if var before, moved.isEmpty, withoutSources(before.packages) == withoutSources(packages), before.requested == group.key.requested,
               before.sources == (try PackageLock.sourcesIdentity(of: first)) {
                // Nothing moved: the set stays as it was, its dates too (they are in the digest);
                // a lock written before sources or layers were recorded gets them.
                before.systems = systems
                before.packages = packages
                sets.append(layered(before))
            } else {
                sets.append(layered(PackageLock.PackageSet(
                    systems: systems, distribution: first.distribution, architecture: first.architecture,
                    sources: try PackageLock.sourcesIdentity(of: first), requested: group.key.requested,
                    sourceDateEpoch: releases.map(\.date).max() ?? 0, releases: releases, packages: packages)))
            }
            changes.append(Change(systems: systems, packages: moved))
        }
        let lock = PackageLock(sets: sets)
        let url = PackageLock.url(for: evaluation.file)
        try lock.write(to: url)
        return (lock, url, changes)
    }

    /// Resolves `names` with each of `kept` pinned to its version; a pin that makes the set
    /// unresolvable (a new version needs a newer library, say) is dropped and the resolution
    /// tried again, until apt finds a set or no pin is left to drop.
    private func resolve(
        _ names: [String], keeping kept: [LockedPackage], with apt: PrivateApt, progress: ProgressReporter
    ) throws -> [LockedPackage] {
        var pins = Dictionary(kept.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        while true {
            try apt.pin(pins.values.sorted { $0.name < $1.name })
            do {
                return try apt.resolve(names)
            } catch let error as BuildEnvironmentError {
                // `X : Depends: Y (>= 2) but 1 is to be installed`: move Y if it is pinned, else X.
                // A package's further relations follow on lines of their own, without its name.
                let relations: Set<String> = ["Depends", "PreDepends", "Pre-Depends", "Breaks", "Conflicts"]
                var dropped: [String] = [], dependent = ""
                for line in error.description.split(separator: "\n") {
                    var words = line.split(whereSeparator: { $0 == " " || $0 == ":" }).map(String.init)
                    if let word = words.first, relations.contains(word) { words.insert(dependent, at: 0) }
                    guard words.count >= 3, relations.contains(words[1]) else { continue }
                    dependent = words[0]
                    let dependency = words[2]
                    if pins.removeValue(forKey: dependency) != nil {
                        dropped.append(dependency)
                    } else if pins.removeValue(forKey: dependent) != nil {
                        dropped.append(dependent)
                    }
                }
                guard !dropped.isEmpty else { throw error }
                progress("moving too, as dependencies require: \(dropped.sorted().joined(separator: ", "))")
            }
        }
    }
}
