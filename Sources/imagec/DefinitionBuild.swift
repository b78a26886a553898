import Builder
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
        if fetchingPackages { try builder.fetchPackages(systems, lock: lock, lockFile: lockFile, progress: progress) }
    }

    func build(_ system: Evaluation.System, progress: @escaping @Sendable (String) -> Void) throws -> ImageBuilder.Result {
        try builder.build(system, lock: lock, lockFile: lockFile, progress: progress)
    }
}
