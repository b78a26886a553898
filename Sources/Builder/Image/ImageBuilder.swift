import Foundation
import ImageDSL

/// Builds a system's disk image into the store, as a recipe of small steps (mkosi's way):
/// fetch the locked packages, make (or reuse) the package layer, configure a copy of it, and
/// assemble the disk. The entry is named by the build's digest, which covers the canonical
/// system, its lock set and imagec's version; an existing entry is returned at once.
public struct ImageBuilder: Sendable {
    public var store: Store
    /// Part of every digest: bump it with any change to what the recipe (this file,
    /// `SystemConfigurator`, `DiskAssembler`) writes, or old store entries would be reused.
    static let recipeVersion = 7

    public init(store: Store) { self.store = store }

    /// What a build made.
    public struct Result: Sendable {
        public var digest: String
        public var entry: URL
        public var image: URL { entry.appendingPathComponent("disk.raw") }
        /// Whether the entry was already in the store.
        public var reused: Bool
        public var packageLayerReused: Bool
        public var rootBaseReused: Bool
    }

    /// The digest of a build: canonical system, lock set, imagec's and the recipe's versions.
    public static func digest(of system: Evaluation.System, set: PackageLock.PackageSet) throws -> String {
        var data = system.canonicalJSON
        data.append(try CanonicalJSON.encode(value: set))
        data.append(Data("imagec \(Imagec.version) image \(recipeVersion) layer \(PackageLayer.recipeVersion) base \(RootBase.recipeVersion)\n".utf8))
        return CanonicalJSON.sha256(data)
    }

    /// The store entry name a build of `system` has (or will have): `<digest>-<host>`.
    public static func entryName(of system: Evaluation.System, lock: PackageLock, lockFile: URL) throws -> String {
        let set = try lock.set(for: system.model, lockFile: lockFile)
        return "\(try digest(of: system, set: set))-\(system.model.hostName)"
    }

    public func build(
        _ system: Evaluation.System, lock: PackageLock, lockFile: URL, progress: @escaping (String) -> Void = { _ in }
    ) throws -> Result {
        let model = system.model
        let set = try lock.set(for: model, lockFile: lockFile)
        let digest = try Self.digest(of: system, set: set)
        let name = "\(digest)-\(model.hostName)"
        if let entry = store.entry(name) {
            try store.recordRoot(entry, for: model.hostName)
            return Result(digest: digest, entry: entry, reused: true, packageLayerReused: true, rootBaseReused: true)
        }

        let scratch = store.root.appendingPathComponent(".tmp-\(getpid())-scratch-\(model.hostName)")
        Interruption.removeOnInterrupt(scratch)
        try? FileManager.default.removeItem(at: scratch)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(at: scratch)
            Interruption.forget(scratch)
        }
        var log = ""
        @discardableResult func step<T>(_ title: String, _ work: () throws -> T) rethrows -> T {
            let started = Date()
            progress("\(title)…")
            let value = try work()
            let line = "\(title): \(String(format: "%.1f", Date().timeIntervalSince(started))) s"
            log += line + "\n"
            progress(line)
            return value
        }

        let sources = model.aptSources.isEmpty ? HostAptSources.read(for: model.distribution.release) : model.aptSources
        let debs = DebCache(store: store)
        try step("fetch") {
            try debs.fetch(set, sources: sources, scratch: scratch.appendingPathComponent("fetch"), progress: progress)
        }
        let layer = PackageLayer(set: set, debs: debs)
        var layerReused = true
        let layerEntry = try step("package layer") {
            try store.entry(layer.entryName) { folder in
                layerReused = false
                try layer.make(in: folder, scratch: scratch.appendingPathComponent("layer"), progress: progress)
            }
        }
        let tools = Tools(environment: DiskAssembler.environment(set.sourceDateEpoch), scratch: scratch)
        let base = RootBase(layer: layerEntry, size: model.disk.rootSize, offset: DiskAssembler.rootStart(model) * DiskAssembler.sector,
                            sourceDateEpoch: set.sourceDateEpoch)
        var baseReused = true
        let baseEntry = try step("root base") {
            try store.entry(base.entryName) { folder in
                baseReused = false
                try base.make(in: folder, scratch: scratch, tools: tools) { needed in
                    DefinitionError(.invalid, [Diagnostic(
                        "the root file system needs about \(ByteCount(bytes: needed).rounded) but the root size is \(model.disk.rootSize)",
                        at: model.location(of: "rootSize"))])
                }
            }
        }
        // The root base's disk is copied while the tree is configured; the disk step takes the copy.
        let rootDisk = scratch.appendingPathComponent("root-disk.raw")
        let copyTools = Tools(environment: tools.environment, scratch: scratch.appendingPathComponent("copy"))
        try FileManager.default.createDirectory(at: copyTools.scratch, withIntermediateDirectories: false)
        let copying = BackgroundWork {
            try copyTools.run("/bin/cp", ["--sparse=always", baseEntry.appendingPathComponent("disk.raw").path, rootDisk.path])
        }
        defer { _ = try? copying.wait() }
        // A hard-link copy of the layer's tree: configuration replaces files, never edits them.
        let root = scratch.appendingPathComponent("root")
        try step("link tree") { try tools.run("/bin/cp", ["-al", layerEntry.appendingPathComponent("tree").path, root.path]) }
        let ids = ImageIdentifiers(digest: digest)
        try step("configure") {
            try SystemConfigurator(model: model, root: root, ids: ids, aptSources: sources, sourceDateEpoch: set.sourceDateEpoch,
                                   store: store, rootBase: baseEntry.lastPathComponent).apply()
        }
        var delta = TreeDelta(original: layerEntry.appendingPathComponent("tree"), configured: root, time: set.sourceDateEpoch)
        try step("changes") { try delta.compute() }
        let entry = try store.entry(name) { folder in
            let assembler = DiskAssembler(model: model, rootDisk: { try copying.wait(); return rootDisk }, delta: delta, ids: ids,
                                          sourceDateEpoch: set.sourceDateEpoch, scratch: scratch)
            try assembler.assemble(into: folder.appendingPathComponent("disk.raw")) { title, work in try step(title, work) }
            // The configured tree is no longer needed: it is removed while the image is hashed.
            let removing = BackgroundWork { try? FileManager.default.removeItem(at: root) }
            defer { _ = try? removing.wait() }
            let sha = try step("checksum") { try SparseFile.sha256(of: folder.appendingPathComponent("disk.raw")) }
            try system.canonicalJSON.write(to: folder.appendingPathComponent("system.json"))
            try CanonicalJSON.encode(value: set).write(to: folder.appendingPathComponent("lock.json"))
            try "\(sha)  disk.raw\n".write(to: folder.appendingPathComponent("disk.raw.sha256"), atomically: true, encoding: .utf8)
            try log.write(to: folder.appendingPathComponent("build.log"), atomically: true, encoding: .utf8)
            // The entries it was made from, which garbage collection keeps with it.
            let inputs = [layerEntry.lastPathComponent, baseEntry.lastPathComponent]
                + [SystemConfigurator.localeEntryName(model, rootBase: baseEntry.lastPathComponent)].compactMap { $0 }
            try inputs.map { $0 + "\n" }.joined().write(to: folder.appendingPathComponent("inputs"), atomically: true, encoding: .utf8)
        }
        try store.recordRoot(entry, for: model.hostName)
        return Result(digest: digest, entry: entry, reused: false, packageLayerReused: layerReused, rootBaseReused: baseReused)
    }

    /// Builds `result`'s system again in a new, empty store (sharing only the downloaded .debs)
    /// and compares the images. Returns `nil` when every byte is the same, else what differs.
    public func check(
        _ result: Result, system: Evaluation.System, lock: PackageLock, lockFile: URL, progress: @escaping (String) -> Void = { _ in }
    ) throws -> String? {
        let scratch = store.root.appendingPathComponent(".tmp-\(getpid())-check-\(system.model.hostName)")
        Interruption.removeOnInterrupt(scratch)
        defer {
            try? FileManager.default.removeItem(at: scratch)
            Interruption.forget(scratch)
        }
        let fresh = Store(root: scratch.appendingPathComponent("store"))
        try FileManager.default.createDirectory(at: fresh.root, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: fresh.root.appendingPathComponent("debs"), withDestinationURL: DebCache(store: store).directory)
        let again = try ImageBuilder(store: fresh).build(system, lock: lock, lockFile: lockFile, progress: progress)
        return try ImageComparison(first: result.image, second: again.image, scratch: scratch).difference()
    }

    /// The image as qcow2, in a store entry of its own beside the raw one.
    public func qcow2(of result: Result, hostName: String) throws -> URL {
        let entry = try store.entry("\(result.digest)-\(hostName)-qcow2") { folder in
            try Tools(environment: ["LC_ALL": "C"], scratch: folder).run(
                "/usr/bin/qemu-img", ["convert", "-f", "raw", "-O", "qcow2", result.image.path, folder.appendingPathComponent("disk.qcow2").path])
            try? FileManager.default.removeItem(at: folder.appendingPathComponent("tool-output.txt"))
        }
        return entry.appendingPathComponent("disk.qcow2")
    }
}
