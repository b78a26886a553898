import ArgumentParser
import Foundation
import SharedStore

/// `imagec store`: the lab's shared store.
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Share store entries with other build hosts through the lab's shared store.",
        discussion: """
            A system's SharedStore(pool:…, trusting:) names a RADOS pool of the lab's Ceph \
            cluster. `imagec build` takes from it any entry it holds signed by a trusted key \
            (the built image, its package layer and root base, the locked .debs) instead of making it.
            """,
        subcommands: [Key.self, Push.self])

    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print this host's store signing key (made on first use), to list in SharedStore(…, trusting:).",
            discussion: "The private key is $IMAGEC_SECRETS/store-signing.key (default /var/lib/imagec/secrets), mode 0600.")

        func run() throws {
            Swift.print(try StoreSigningKey(create: true).publicKey)
        }
    }

    struct Push: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a definition's systems if needed and push them to their shared store.",
            discussion: """
                Pushes the locked .debs, the package layer, the root base and the image, each signed with this host's \
                store key; the image entry is written last, so a push that is killed leaves \
                nothing a build could take. What the store already holds is not written again.
                """)

        @Argument(help: "The system definition file, such as systems/bigmem2.swift.")
        var file: String

        @Option(name: .long, help: "Push only the system with this host name.")
        var system: String?

        @OptionGroup var output: ProgressOptions

        func run() throws {
            let progress = output.context.progress
            let key = try StoreSigningKey()
            let definition = try output.context.definition(file, system: system)
            for system in definition.systems {
                let result = try definition.build(system, progress: progress)
                try definition.pushToSharedStore(result, of: system, key: key, progress: progress)
                Swift.print("\(system.model.hostName) \(result.entry.name)")
            }
        }
    }
}
