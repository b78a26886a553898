import Foundation
import ImageDSL
import Packages

/// What changes between two sides of a review (two revisions, or a revision and the work
/// tree, or two files), system by system: the model's changes, the locked package versions,
/// the image digests.
public struct Review: Codable, Sendable {
    /// One system's changes.
    public struct SystemChanges: Codable, Sendable, Equatable {
        public enum Status: String, Codable, Sendable { case added, removed, renamed, changed, unchanged }

        public var hostName: String
        /// The host name before, for a renamed system.
        public var oldHostName: String?
        public var status: Status
        public var oldFile: String?
        public var newFile: String?
        public var oldDigest: String?
        public var newDigest: String?
        /// Such as `lock out of date on the new side`.
        public var notes: [String]
        public var changes: [ModelChange]
        public var packages: [PackageChange]

        public var digestChanged: Bool { oldDigest != newDigest }
    }

    /// A definition file that did not evaluate on one side.
    public struct Failure: Codable, Sendable {
        public var side: String
        public var file: String
        public var errors: [String]

        public init(side: String, file: String, errors: [String]) {
            self.side = side
            self.file = file
            self.errors = errors
        }
    }

    public var old: String
    public var new: String
    /// Set when the new side is a work tree with uncommitted changes.
    public var newIsDirty: Bool
    /// Every system of either side, sorted by host name.
    public var systems: [SystemChanges]
    public var failures: [Failure]

    public init(from old: DefinitionSnapshot, to new: DefinitionSnapshot, newIsDirty: Bool = false) throws {
        self.old = old.label
        self.new = new.label
        self.newIsDirty = newIsDirty
        failures = old.failures.map { Failure(side: old.label, file: $0.file, errors: $0.errors) }
            + new.failures.map { Failure(side: new.label, file: $0.file, errors: $0.errors) }
        // A file that failed on one side hides its systems there: they are neither added nor removed.
        let failedOld = Set(old.failures.map(\.file)), failedNew = Set(new.failures.map(\.file))

        var removed = old.systems.values.filter { new.systems[$0.hostName] == nil && !failedNew.contains($0.file) }
        var added = new.systems.values.filter { old.systems[$0.hostName] == nil && !failedOld.contains($0.file) }
        var pairs: [(DefinitionSnapshot.System?, DefinitionSnapshot.System?)] = old.systems.values.compactMap { system in
            new.systems[system.hostName].map { (system, $0) }
        }
        // A host renamed: the one system that left a file and the one that arrived in it (or
        // the only ones of two single files).
        let singleFiles = old.files.count == 1 && new.files.count == 1
        for gone in removed {
            let candidates = added.filter { $0.file == gone.file || singleFiles }
            let leaving = removed.filter { $0.file == gone.file || singleFiles }
            if candidates.count == 1, leaving.count == 1, let arrived = candidates.first {
                pairs.append((gone, arrived))
                removed.removeAll { $0.hostName == gone.hostName }
                added.removeAll { $0.hostName == arrived.hostName }
            }
        }
        pairs += removed.map { ($0, nil) } + added.map { (nil, $0) }

        systems = try pairs.map { before, after in
            try Self.compare(before, after, old: old, new: new)
        }.sorted { $0.hostName < $1.hostName }
    }

    static func compare(
        _ before: DefinitionSnapshot.System?, _ after: DefinitionSnapshot.System?, old: DefinitionSnapshot, new: DefinitionSnapshot
    ) throws -> SystemChanges {
        let host = after?.hostName ?? before!.hostName
        var result = SystemChanges(
            hostName: host, oldHostName: nil, status: .unchanged, oldFile: before?.file, newFile: after?.file,
            oldDigest: before?.digest, newDigest: after?.digest, notes: [], changes: [], packages: [])
        for (side, system) in [(old.label, before), (new.label, after)] {
            if let note = system?.lockNote { result.notes.append("\(note) in \(side): the digest is the model's, not the image's") }
        }
        if let before, let after {
            // Each side's declarations, named relative to its own definitions folder.
            result.changes = try ModelDiff.changes(from: before.model, to: after.model, relative: { new.relative(old.relative($0)) })
                .filter { $0.section != "host name" || before.hostName == after.hostName }
            if before.hostName != after.hostName {
                result.oldHostName = before.hostName
                result.status = .renamed
            } else if before.file != after.file || !result.changes.isEmpty || result.digestChanged {
                result.status = .changed
            }
        } else {
            result.status = before == nil ? .added : .removed
        }
        let oldPackages = before?.packages ?? [:], newPackages = after?.packages ?? [:]
        if before != nil, after != nil {
            result.packages = PackageChange.between(oldPackages, newPackages)
        }
        if result.status == .unchanged, !result.packages.isEmpty { result.status = .changed }
        return result
    }

    /// The systems whose image changes (digest), added and removed ones included.
    public var affected: [SystemChanges] {
        systems.filter { $0.status != .unchanged && ($0.digestChanged || $0.status != .changed) }
    }
}

extension Review.SystemChanges {
    /// Why the digest changed, shortest first: the files that declared what changed, with
    /// the sections they changed (`templates/Slurm.swift: mounts, services`), then the lock.
    public var reasons: [String] {
        switch status {
        case .added: return ["added in \(newFile ?? "?")"]
        case .removed: return ["removed from \(oldFile ?? "?")"]
        default: break
        }
        var byFile: [String: Set<String>] = [:]
        for change in changes {
            let file = change.source.map { String($0[..<($0.lastIndex(of: ":") ?? $0.endIndex)]) } ?? newFile ?? "?"
            byFile[file, default: []].insert(change.section)
        }
        var reasons = byFile.keys.sorted().map { "\($0): \(byFile[$0]!.sorted().joined(separator: ", "))" }
        if status == .renamed { reasons.insert("renamed from \(oldHostName ?? "?")", at: 0) }
        if !packages.isEmpty {
            reasons.append("lock: \(packages.count) package\(packages.count == 1 ? "" : "s") (\(packages.prefix(3).map(\.name).joined(separator: ", "))\(packages.count > 3 ? ", …" : ""))")
        }
        if reasons.isEmpty, digestChanged { reasons.append("builder version or lock") }
        return reasons
    }
}
