import Foundation
import ImageBuild
import ImagecCore
import Testing

/// Garbage collection keeps the latest build of each system, its package layers (the one it was
/// made from, and the layers below that one) and its .debs, with their plain forms.
struct StoreCollectorTests {
    @Test func keepsRootsTheirLayersAndTheirDebs() throws {
        let store = Store(root: try Support.temporaryDirectory())
        let layer = "aaaa-rootfs-bookworm-amd64", oldLayer = "bbbb-rootfs-bookworm-amd64", below = "0000-rootfs-bookworm-amd64"
        _ = try store.entry(below) { try Data(count: 4096).write(to: $0.appendingPathComponent("rootfs.tar")) }
        _ = try store.entry(layer) { folder in
            try Data(count: 4096).write(to: folder.appendingPathComponent("rootfs.tar"))
            try (below + "\n").write(to: folder.appendingPathComponent("inputs"), atomically: true, encoding: .utf8)
        }
        _ = try store.entry(oldLayer) { try Data(count: 4096).write(to: $0.appendingPathComponent("rootfs.tar")) }
        func image(_ name: String, layer: String, debs: [String]) throws -> URL {
            try store.entry(name) { folder in
                try Data(count: 4096).write(to: folder.appendingPathComponent("disk.raw"))
                try (layer + "\n").write(to: folder.appendingPathComponent("inputs"), atomically: true, encoding: .utf8)
                let packages = debs.map { #"{"name":"p","version":"1","architecture":"all","size":1,"sha256":"\#($0)","path":"pool/p.deb"}"# }
                try #"{"systems":["h"],"distribution":{"vendor":"debian","release":"bookworm"},"architecture":"amd64","sources":"host","requested":[],"sourceDateEpoch":1,"packages":[\#(packages.joined(separator: ","))]}"#
                    .write(to: folder.appendingPathComponent("lock.json"), atomically: true, encoding: .utf8)
            }
        }
        let old = try image("1111-host", layer: oldLayer, debs: ["d1"])
        let latest = try image("2222-host", layer: layer, debs: ["d2"])
        try store.recordRoot(old, for: "host")
        try store.recordRoot(latest, for: "host")
        let debs = store.root.appendingPathComponent("debs")
        try FileManager.default.createDirectory(at: debs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: debs.appendingPathComponent("plain"), withIntermediateDirectories: true)
        for name in ["d1", "d2"] {
            try Data(count: 10).write(to: debs.appendingPathComponent("\(name).deb"))
            try Data(count: 30).write(to: debs.appendingPathComponent("plain/\(name).deb"))  // its plain form (PlainDeb)
        }

        let collector = StoreCollector(store: store)
        let planned = try collector.garbage().map { $0.path.lastPathComponent }
        #expect(planned == ["1111-host", oldLayer, "d1.deb", "d1.deb"])
        #expect(try collector.garbage().allSatisfy { $0.bytes > 0 })
        #expect(FileManager.default.fileExists(atPath: old.path))  // the dry run removed nothing

        #expect(try collector.collect().count == 4)
        let left = try FileManager.default.contentsOfDirectory(atPath: store.root.path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(left == [below, "2222-host", layer, "debs"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: debs.path).sorted() == ["d2.deb", "plain"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: debs.appendingPathComponent("plain").path) == ["d2.deb"])

        // A .deb cache shared with other stores (a link) is left alone.
        let other = Store(root: try Support.temporaryDirectory())
        try FileManager.default.createSymbolicLink(at: other.root.appendingPathComponent("debs"), withDestinationURL: debs)
        #expect(try StoreCollector(store: other).collect().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: debs.path).sorted() == ["d2.deb", "plain"])
    }
}
