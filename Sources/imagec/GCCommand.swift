import ArgumentParser
import Foundation
import ImageBuild
import ImagecCore
import ImageDSL

/// `imagec gc`: remove store entries no root references.
struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove store entries that no root references.",
        discussion: """
            Roots are the most recent build of each system. Their package layers and the .deb \
            files of their locks are kept too; everything else goes.
            """)

    @Flag(name: .long, help: "List what would be removed, with sizes, and remove nothing.")
    var dryRun = false

    func run() throws {
        let collector = StoreCollector(store: Store(root: Store.defaultRoot))
        let items = dryRun ? try collector.garbage() : try collector.collect()
        for item in items { Swift.print("\(ByteCount(bytes: item.bytes).rounded)\t\(item.path.path)") }
        let total = items.reduce(0) { $0 + $1.bytes }
        Swift.print("\(dryRun ? "would free" : "freed") \(ByteCount(bytes: total).rounded) in \(items.count) items")
    }
}
