import Foundation
import ImagecCore
import Packages

/// Garbage collection of the store. Roots are the most recent build of each system (recorded
/// by every build in `.roots/<host name>`) and whatever later steps mark as deployed; an image
/// entry keeps the entries it was made from (package layer, root base) alive, and a kept lock keeps its .deb files.
public struct StoreCollector: Sendable {
    public var store: Store

    public init(store: Store) { self.store = store }

    /// Something the collector would remove, with its size on disk.
    public struct Garbage: Sendable {
        public var path: URL
        public var bytes: UInt64
    }

    /// What is not reachable from a root.
    public func garbage() throws -> [Garbage] {
        let manager = FileManager.default
        let rootsFolder = store.root.appendingPathComponent(".roots")
        let roots = try ((try? manager.contentsOfDirectory(atPath: rootsFolder.path)) ?? []).map {
            try String(contentsOf: rootsFolder.appendingPathComponent($0), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var keep = Set(roots)
        var keptDebs = Set<String>()
        // An entry's inputs, and theirs (a package layer's is the layer below it).
        var queue = roots
        while let name = queue.popLast() {
            let inputs = (try? String(contentsOf: store.root.appendingPathComponent(name).appendingPathComponent("inputs"), encoding: .utf8)) ?? ""
            for input in inputs.split(separator: "\n").map(String.init) where keep.insert(input).inserted { queue.append(input) }
        }
        for name in roots {
            let entry = store.root.appendingPathComponent(name)
            if let data = manager.contents(atPath: entry.appendingPathComponent("lock.json").path),
               let set = try? JSONDecoder().decode(PackageLock.PackageSet.self, from: data) {
                keptDebs.formUnion(set.packages.map { "\($0.sha256).deb" })
            }
        }
        var garbage: [Garbage] = []
        for name in try manager.contentsOfDirectory(atPath: store.root.path).sorted()
        where !name.hasPrefix(".") && name != "debs" && !keep.contains(name) {
            let url = store.root.appendingPathComponent(name)
            garbage.append(Garbage(path: url, bytes: Self.allocatedSize(of: url)))
        }
        // A .deb cache that is a link to one shared with other stores is left alone: their roots are not known here.
        let debs = store.root.appendingPathComponent("debs")
        let shared = (try? manager.destinationOfSymbolicLink(atPath: debs.path)) != nil
        // The plain forms of the .debs (`PlainDeb`, in `debs/plain`) go with their .debs.
        let plain = debs.appendingPathComponent("plain")
        for folder in shared ? [] : [debs, plain] {
            for name in ((try? manager.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
            where !keptDebs.contains(name) && !(folder == debs && name == "plain") {
                let url = folder.appendingPathComponent(name)
                garbage.append(Garbage(path: url, bytes: Self.allocatedSize(of: url)))
            }
        }
        return garbage
    }

    /// Removes the garbage; returns what was removed.
    public func collect() throws -> [Garbage] {
        let garbage = try garbage()
        for item in garbage {
            if item.path.deletingLastPathComponent() == store.root {
                try store.remove(item.path.lastPathComponent)
            } else {
                try FileManager.default.removeItem(at: item.path)
            }
        }
        return garbage
    }

    /// Bytes a file or folder takes on disk (sparse images count what they use).
    static func allocatedSize(of url: URL) -> UInt64 {
        var total: UInt64 = 0
        var info = stat()
        if lstat(url.path, &info) == 0 { total += UInt64(info.st_blocks) * 512 }
        if let items = FileManager.default.enumerator(atPath: url.path) {
            for case let item as String in items where lstat(url.appendingPathComponent(item).path, &info) == 0 {
                total += UInt64(info.st_blocks) * 512
            }
        }
        return total
    }
}
