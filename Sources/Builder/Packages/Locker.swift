import Foundation
import ImageDSL

/// Resolves the full package set of each system of a definition against its apt sources (the
/// build host's by default) and writes the lock file beside the definition.
public struct Locker: Sendable {
    /// Where the private apt configurations go (removed afterwards).
    public var scratchRoot = FileManager.default.temporaryDirectory

    public init() {}

    /// Locks every system of `evaluation`; reports each step through `progress`.
    public func lock(_ evaluation: Evaluation, progress: (String) -> Void = { _ in }) throws -> (PackageLock, URL) {
        struct Key: Hashable {
            var distribution: Distribution, architecture: Architecture, sources: [AptSource], requested: [String]
        }
        var groups: [(key: Key, systems: [SystemModel])] = []
        for system in evaluation.systems.map(\.model) {
            let key = Key(
                distribution: system.distribution, architecture: system.architecture,
                sources: system.aptSources, requested: PackageSelection.requested(by: system))
            if let index = groups.firstIndex(where: { $0.key == key }) {
                groups[index].systems.append(system)
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
            let packages = try apt.resolve(index.essential.sorted() + group.key.requested)
            progress("locked \(packages.count) packages in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
            sets.append(PackageLock.PackageSet(
                systems: group.systems.map(\.hostName).sorted(),
                distribution: first.distribution, architecture: first.architecture,
                sources: try PackageLock.sourcesIdentity(of: first),
                requested: group.key.requested, sourceDateEpoch: apt.releaseDate(), packages: packages))
        }
        let lock = PackageLock(sets: sets)
        let url = PackageLock.url(for: evaluation.file)
        try lock.write(to: url)
        return (lock, url)
    }
}
