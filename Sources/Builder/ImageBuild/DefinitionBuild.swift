import DefinitionEvaluation
import Foundation
import ImagecCore
import ImageDSL
import Packages
import SharedStore

/// What every command that builds shares (`build`, `test`, `push`, `deploy`): a definition
/// evaluated, its lock read (or written when missing) and its systems, ready to build into
/// the store, with the shared stores they declare.
public struct DefinitionBuild: Sendable {
    public let file: String
    public let systems: [Evaluation.System]
    /// The evaluation's warnings, for the caller to print.
    public let diagnostics: [Diagnostic]
    public let lock: PackageLock
    public let lockFile: URL
    public let builder: ImageBuilder
    /// Reaches the objects of a shared store (RADOS, given by the caller).
    private let objectStore: @Sendable (SharedStore) throws -> any ObjectStore
    /// A client of each shared store the systems declare that could be reached.
    private var sharedStores: [SharedStore: SharedStoreClient] = [:]

    /// `system` keeps only the system with that host name. Unless `fetchingPackages` is false,
    /// the locked packages of every system to build are fetched first, so that one no source
    /// has stops the command before any image is built.
    public init(file: String, system: String?, store: Store = Store(root: Store.defaultRoot), fetchingPackages: Bool = true,
                objectStore: @escaping @Sendable (SharedStore) throws -> any ObjectStore,
                progress: ProgressReporter) throws {
        let evaluation = try Evaluator.standard().evaluate(file)
        var systems = evaluation.systems
        if let system {
            guard let match = evaluation.system(named: system) else {
                throw UsageError("\(file) declares no system named '\(system)'")
            }
            systems = [match]
        }
        try self.init(file: file, evaluation: evaluation, systems: systems, store: store, fetchingPackages: fetchingPackages,
                      objectStore: objectStore, progress: progress)
    }

    /// The systems `systems` of a definition already evaluated (a booked machine's, say), with
    /// its lock.
    public init(file: String, evaluation: Evaluation, systems: [Evaluation.System], store: Store = Store(root: Store.defaultRoot),
                fetchingPackages: Bool = true, objectStore: @escaping @Sendable (SharedStore) throws -> any ObjectStore,
                progress: ProgressReporter) throws {
        self.file = file
        self.objectStore = objectStore
        builder = ImageBuilder(store: store)
        diagnostics = evaluation.diagnostics
        self.systems = systems
        lockFile = PackageLock.url(for: evaluation.file)
        if let lock = try PackageLock.read(from: lockFile) {
            self.lock = lock
        } else {
            let here = FileManager.default.currentDirectoryPath + "/"
            progress("no lock file: writing \(lockFile.path.hasPrefix(here) ? String(lockFile.path.dropFirst(here.count)) : lockFile.path) (commit it)")
            lock = try Locker().lock(evaluation, progress: progress).lock
        }
        if fetchingPackages { try fetchPackages(progress: progress) }
    }

    /// Connects to the shared stores the systems declare (one that does not answer is
    /// warned of and built without), then fetches the locked packages of every system, so
    /// that one no source has stops the command before any image is built.
    public mutating func fetchPackages(progress: ProgressReporter) throws {
        for declared in Set(systems.compactMap(\.model.sharedStore)) where sharedStores[declared] == nil {
            do {
                sharedStores[declared] = SharedStoreClient(objects: try objectStore(declared), trustedKeys: declared.trustedKeys)
            } catch {
                progress("warning: the shared store (RADOS pool \(declared.pool) of \(declared.configuration)) cannot be reached, "
                    + "building without it: \(error)")
            }
        }
        for system in systems {
            try builder(for: system).fetchPackages([system], lock: lock, lockFile: lockFile, progress: progress)
        }
    }

    /// The builder of `system`: with its shared store, if it declares one that answered.
    public func builder(for system: Evaluation.System) -> ImageBuilder {
        var builder = self.builder
        builder.sharedStore = system.model.sharedStore.flatMap { sharedStores[$0] }
        return builder
    }

    public func build(_ system: Evaluation.System, progress: ProgressReporter) throws -> ImageBuilder.Result {
        try builder(for: system).build(system, lock: lock, lockFile: lockFile, progress: progress)
    }

    /// Pushes a build of `system` to its shared store (which must have answered).
    public func pushToSharedStore(_ result: ImageBuilder.Result, of system: Evaluation.System, key: StoreSigningKey,
                           progress: ProgressReporter) throws {
        guard let declared = system.model.sharedStore else {
            throw DefinitionError(.invalid, [Diagnostic(
                "system '\(system.model.hostName)' declares no SharedStore(pool:…): there is nowhere to push it",
                at: system.model.location(of: "system"))])
        }
        var builder = builder(for: system)
        if builder.sharedStore == nil {
            builder.sharedStore = SharedStoreClient(objects: try objectStore(declared), trustedKeys: declared.trustedKeys)
        }
        try builder.push(result, set: try lock.set(for: system.model, lockFile: lockFile), key: key, progress: progress)
    }
}
