import Builder
import Deployer
import Foundation
import ImageDSL

/// What `build` and `test` share: a definition evaluated, its lock read (or written when
/// missing) and its systems, ready to build into the store.
struct DefinitionBuild {
    let file: String
    let systems: [Evaluation.System]
    let lock: PackageLock
    let lockFile: URL
    let builder = ImageBuilder(store: Store(root: Store.defaultRoot))
    /// A client of each shared store the systems declare that could be reached.
    private var sharedStores: [SharedStore: SharedStoreClient] = [:]

    /// `system` keeps only the system with that host name. Unless `fetchingPackages` is false,
    /// the locked packages of every system to build are fetched first, so that one no source
    /// has stops the command before any image is built.
    init(file: String, system: String?, fetchingPackages: Bool = true, progress: @escaping @Sendable (String) -> Void) throws {
        self.file = file
        let evaluation = try Evaluator.standard().evaluate(file)
        evaluation.diagnostics.forEach(Report.print)
        var systems = evaluation.systems
        if let system {
            guard let match = evaluation.system(named: system) else {
                throw UsageError("\(file) declares no system named '\(system)'")
            }
            systems = [match]
        }
        self.systems = systems
        lockFile = PackageLock.url(for: evaluation.file)
        if let lock = try PackageLock.read(from: lockFile) {
            self.lock = lock
        } else {
            progress("no lock file: writing \(Report.relative(lockFile.path)) (commit it)")
            lock = try Locker().lock(evaluation, progress: progress).lock
        }
        guard fetchingPackages else { return }
        for declared in Set(systems.compactMap(\.model.sharedStore)) {
            do {
                sharedStores[declared] = SharedStoreClient(objects: try RADOSObjectStore(declared), trustedKeys: declared.trustedKeys)
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
    func builder(for system: Evaluation.System) -> ImageBuilder {
        var builder = self.builder
        builder.sharedStore = system.model.sharedStore.flatMap { sharedStores[$0] }
        return builder
    }

    func build(_ system: Evaluation.System, progress: @escaping @Sendable (String) -> Void) throws -> ImageBuilder.Result {
        try builder(for: system).build(system, lock: lock, lockFile: lockFile, progress: progress)
    }

    /// Pushes a build of `system` to its shared store (which must have answered).
    func pushToSharedStore(_ result: ImageBuilder.Result, of system: Evaluation.System, key: StoreSigningKey,
                           progress: @escaping @Sendable (String) -> Void) throws {
        guard let declared = system.model.sharedStore else {
            throw DefinitionError(.invalid, [Diagnostic(
                "system '\(system.model.hostName)' declares no SharedStore(pool:…): there is nowhere to push it",
                at: system.model.location(of: "system"))])
        }
        var builder = builder(for: system)
        if builder.sharedStore == nil {
            builder.sharedStore = SharedStoreClient(objects: try RADOSObjectStore(declared), trustedKeys: declared.trustedKeys)
        }
        try builder.push(result, set: try lock.set(for: system.model, lockFile: lockFile), key: key, progress: progress)
    }
}
