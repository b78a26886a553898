import DefinitionReview
import Foundation
import ImagecCore
import Packages
import Pools

extension Provenance {
    /// The provenance of a system of `definitions` (a file) locked to `set`.
    public init(definitions file: String, version: String, set: PackageLock.PackageSet) throws {
        self.init(commit: Self.commit(of: file), version: version, packages: CanonicalJSON.sha256(try CanonicalJSON.encode(value: set)))
    }

    /// The git commit of the definitions holding `file` (`-dirty` when they have uncommitted
    /// changes), or `unknown` outside a repository.
    public static func commit(of file: String) -> String {
        let folder = (try? ReviewSides.definitionsFolder(from: URL(fileURLWithPath: file).deletingLastPathComponent()))
            ?? URL(fileURLWithPath: file).deletingLastPathComponent()
        guard let repository = try? GitRepository(holding: folder), let commit = try? repository.commit("HEAD") else { return "unknown" }
        return commit + ((try? repository.isDirty()) == true ? "-dirty" : "")
    }
}
