import DefinitionEvaluation
import Foundation
import ImagecCore
import ImageDSL
import Packages
import SBOM
import SharedStore

/// Builds a system's disk image into the store, as a recipe of small steps (mkosi's way):
/// fetch the locked packages, make (or reuse) the package layer, configure a copy of it, and
/// assemble the disk. The entry is named by the build's digest, which covers the canonical
/// system, its lock set and imagec's version; an existing entry is returned at once.
public struct ImageBuilder: Sendable {
    public var store: Store
    /// The lab's shared store: an entry it holds (a built image, a root base, a .deb) is taken
    /// from it instead of being made.
    public var sharedStore: SharedStoreClient?
    /// Part of every digest: bump it with any change to what the recipe (this file,
    /// `SystemConfigurator`, `DiskAssembler`) writes, or old store entries would be reused.
    static let recipeVersion = 12  // 12: the file systems' lifetime writes reset

    public init(store: Store) { self.store = store }

    /// What a build made.
    public struct Result: Sendable {
        public var digest: ImageDigest
        public var entry: ImageEntry
        public var image: URL { entry.disk }
        /// Whether the entry was already in the store.
        public var reused: Bool
        public var packageLayerReused: Bool
        /// The package layers, bottom to top, and whether each was already in the store
        /// (empty when the image itself was).
        public var layers: [Layer] = []
        public var rootBaseReused: Bool
        /// Whether the entry came from the shared store.
        public var substituted = false

        /// A package layer of the build.
        public struct Layer: Sendable {
            /// Its store entry.
            public var name: String
            /// Where its template (or the system) is defined: `templates/Lab.swift:38`.
            public var stage: String
            public var reused: Bool
        }
    }

    /// The digest of a build: canonical system, lock set, imagec's and the recipe's versions.
    public static func digest(of system: Evaluation.System, set: PackageLock.PackageSet) throws -> ImageDigest {
        var data = system.canonicalJSON
        data.append(try CanonicalJSON.encode(value: set))
        let recipes = "image \(recipeVersion) layer \(PackageLayer.recipeVersion) initramfs \(InitramfsEntry.recipeVersion) "
            + "base \(RootBase.recipeVersion)"
        data.append(Data("imagec \(Imagec.version) \(recipes)\n".utf8))
        return ImageDigest(hex: CanonicalJSON.sha256(data))
    }

    /// The store entry name a build of `system` has (or will have): `<digest>-<host>`.
    public static func entryName(of system: Evaluation.System, lock: PackageLock, lockFile: URL) throws -> String {
        let set = try lock.set(for: system.model, lockFile: lockFile)
        return ImageEntry.name(digest: try digest(of: system, set: set), host: system.model.hostName)
    }

    public func build(
        _ system: Evaluation.System, lock: PackageLock, lockFile: URL, progress: ProgressReporter = .silent
    ) throws -> Result {
        let model = system.model
        let set = try lock.set(for: model, lockFile: lockFile)
        let digest = try Self.digest(of: system, set: set)
        let name = ImageEntry.name(digest: digest, host: model.hostName)
        if let entry = store.entry(name) {
            try store.recordRoot(entry, for: model.hostName)
            return Result(digest: digest, entry: ImageEntry(folder: entry), reused: true, packageLayerReused: true, rootBaseReused: true)
        }
        if let entry = try substitute(name, progress: progress) {
            try store.recordRoot(entry, for: model.hostName)
            return Result(digest: digest, entry: ImageEntry(folder: entry), reused: true, packageLayerReused: true, rootBaseReused: true,
                          substituted: true)
        }

        let scratch = store.root.appendingPathComponent(".tmp-\(getpid())-scratch-\(UUID().uuidString.prefix(8))-\(model.hostName)")
        Interruption.removeOnInterrupt(scratch)
        try? FileManager.default.removeItem(at: scratch)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(at: scratch)
            Interruption.forget(scratch)
        }
        let steps = StepLog(progress: progress)

        let sources = model.aptSources.isEmpty ? HostAptSources.read(for: model.distribution.release) : model.aptSources
        let debs = DebCache(store: store)
        // The package layers: the top one found in the store (or the shared one), or made on the
        // one below it, found or made the same way. Layers below one that is found are not needed.
        let chain = PackageLayer.chain(of: set, debs: debs)
        var layerReports: [Int: Result.Layer] = [:]
        var layerEntries: [Int: URL] = [:]
        // The initramfs of a layer made now is started at once, on the other core, while the
        // layers above are installed: it is most often the one the system boots with.
        var initramfsWork: [String: BackgroundWork<URL>] = [:]
        defer { for work in initramfsWork.values { _ = try? work.wait() } }
        let needsInitramfs = model.format != .initramfs  // an initramfs system boots its whole tree
        func initramfs(from index: Int, entry: URL) -> BackgroundWork<URL> {
            let made = chain[index].initramfs
            if let work = initramfsWork[made.entryName] { return work }
            let work = BackgroundWork {
                if let found = store.entry(made.entryName) { return found }
                return try steps.step("initramfs") {
                    try store.entry(made.entryName) { folder in
                        if substitute(made.entryName, into: folder, progress: progress) { return }
                        try made.make(in: folder, from: entry.appendingPathComponent("tree"),
                                      scratch: scratch.appendingPathComponent("initramfs-\(index)"))
                    }
                }
            }
            initramfsWork[made.entryName] = work
            return work
        }
        /// The index in the chain of the layer an entry's initramfs comes from.
        func initramfsLayer(of entry: URL) throws -> Int {
            guard let name = PackageLayer.initramfsLayer(of: entry), let index = chain.firstIndex(where: { $0.entryName == name }) else {
                throw BuildEnvironmentError("the package layer \(entry.path) names no layer of its chain to make the initramfs from: "
                    + "remove it and build again")
            }
            return index
        }
        // Layers the store lacks are made each on a thread of its own, bottom to top: a layer
        // hands its tree to the one above as soon as it is installed, and is copied into the
        // store while the one above installs on a copy of it.
        var making: [Int: (handoff: LayerHandoff, work: BackgroundWork<Void>)] = [:]
        defer {
            for layer in making.values { layer.handoff.release() }
            for layer in making.values { _ = try? layer.work.wait() }
        }
        /// Finds layer `index`, or starts making it (and the layers below it the store lacks).
        func startLayer(_ index: Int) throws {
            guard layerEntries[index] == nil && making[index] == nil else { return }
            let layer = chain[index]
            let title = chain.count == 1 ? "package layer" : "package layer \(index + 1)/\(chain.count) (\(layer.stage))"
            if let entry = try store.entry(layer.entryName) ?? substitute(layer.entryName, progress: progress) {
                layerReports[index] = Result.Layer(name: layer.entryName, stage: layer.layer.stage, reused: true)
                steps.found(title)
                layerEntries[index] = entry
                return
            }
            // The layer below: its entry, or (being made) its tree in memory once installed.
            if index > 0 { try startLayer(index - 1) }
            let belowEntry = index > 0 ? layerEntries[index - 1] : nil
            let below = index > 0 ? making[index - 1]?.handoff : nil
            let handoff = LayerHandoff()
            let work = BackgroundWork {
                var installed: MemoryScratch?
                defer {
                    below?.release()
                    if let installed {
                        if installed.isOnOtherFileSystem(than: store.root) { handoff.waitForRelease() }
                        installed.remove()
                    }
                }
                do {
                    let belowTree = try belowEntry?.appendingPathComponent("tree")
                        ?? below.map { try $0.installedTree() ?? $0.storedEntry().entry.appendingPathComponent("tree") }
                    var made = false
                    let entry = try steps.step(title) {
                        try store.entry(layer.entryName) { folder in
                            made = true
                            // The .debs are needed only to make the layer (the pre-flight fetched them already).
                            var needed = set
                            needed.packages = layer.packages
                            if !debs.missing(from: needed).isEmpty { try fetchPackages(model, set: needed, lockFile: lockFile, progress: progress) }
                            let layerScratch = scratch.appendingPathComponent("layer-\(index)")
                            let tree = try layer.install(in: folder, copying: belowTree, scratch: layerScratch, progress: progress)
                            installed = tree
                            below?.release()
                            handoff.hand(tree.isOnOtherFileSystem(than: folder) ? PackageLayer.tree(in: tree) : nil)
                            // The copy into the store links to the entry below.
                            let belowStored = try below?.storedEntry().entry.appendingPathComponent("tree") ?? belowTree
                            try layer.store(tree, in: folder, below: belowStored, scratch: layerScratch)
                        }
                    }
                    handoff.store(entry, made: made)
                } catch {
                    handoff.fail(error)
                    throw error
                }
            }
            making[index] = (handoff, work)
        }
        /// Layer `index`'s entry, found or made (waiting for it).
        func packageLayer(_ index: Int) throws -> URL {
            try startLayer(index)
            if let entry = layerEntries[index] { return entry }
            // Bottom to top, as they are stored: each made layer's initramfs starts at once.
            for (made, layer) in making.sorted(by: { $0.key < $1.key }) where layerEntries[made] == nil && made <= index {
                if made == index { layer.handoff.release() }  // no layer above copies its tree
                let (entry, wasMade) = try layer.handoff.storedEntry()
                layerReports[made] = Result.Layer(name: chain[made].entryName, stage: chain[made].layer.stage, reused: !wasMade)
                layerEntries[made] = entry
                if wasMade && needsInitramfs {
                    let source = try initramfsLayer(of: entry)
                    if let sourceEntry = layerEntries[source] ?? store.entry(chain[source].entryName) {
                        _ = initramfs(from: source, entry: sourceEntry)
                    }
                }
            }
            return try layerEntries[index] ?? { throw BuildEnvironmentError("package layer \(index + 1) was not made") }()
        }
        guard !chain.isEmpty else { throw BuildEnvironmentError("the lock set for '\(model.hostName)' has no packages") }
        let layerEntry = try packageLayer(chain.count - 1)
        let layerReused = layerReports[chain.count - 1]?.reused ?? true
        // Values only the release can confirm (time zone, locales, accounts…), before any work on the image.
        try steps.step("release data") {
            try Self.refuse(ReleaseData(tree: layerEntry.appendingPathComponent("tree")).problems(of: model), progress: progress)
        }
        // The SBOMs read only the layer's tree: they are made while the image is.
        let sboms = BackgroundWork { () -> (spdx: Data, cycloneDX: Data) in
            let inventory = try ImageInventory(hostName: model.hostName, digest: digest.description, set: set,
                                               tree: layerEntry.appendingPathComponent("tree"))
            return (try SPDXDocument.json(inventory), try CycloneDXDocument.json(inventory))
        }
        defer { _ = try? sboms.wait() }
        let tools = Tools(environment: DiskAssembler.environment(set.sourceDateEpoch), scratch: scratch)
        // The initramfs: from the layer the top one names, needed only to make the root base.
        let initramfsSource = try initramfsLayer(of: layerEntry)
        let initramfsName = needsInitramfs ? chain[initramfsSource].initramfs.entryName : nil
        let base = RootBase(layer: layerEntry, initramfs: initramfsName, size: model.disk.rootSize,
                            offset: DiskAssembler.rootStart(model) * DiskAssembler.sector, sourceDateEpoch: set.sourceDateEpoch)
        var initramfsImages: (() throws -> URL)?
        if let initramfsName, store.entry(base.entryName) == nil, (try? sharedStore?.holds(base.entryName)) != true {
            if let found = store.entry(initramfsName) {
                initramfsImages = { found }
            } else {
                let work = initramfs(from: initramfsSource, entry: try packageLayer(initramfsSource))
                initramfsImages = { try work.wait() }
            }
        }
        // Bottom to top: a layer below the top one may have been looked up for the initramfs only.
        let layers = layerReports.sorted { $0.key < $1.key }.map(\.value)

        // Two things at once, on the two cores a build machine has at least: the root base
        // is made (or found) and its disk copied, which the disk step takes; the system is
        // configured in a folder of changes above the layer's tree, which the disk replays.
        let rootDisk = scratch.appendingPathComponent("root-disk.raw")
        let baseTools = Tools(environment: tools.environment, scratch: scratch.appendingPathComponent("base"))
        try FileManager.default.createDirectory(at: baseTools.scratch, withIntermediateDirectories: false)
        let preparing = BackgroundWork { () -> Bool in
            if model.format == .initramfs { return true }  // no disk
            var reused = true
            let entry = try steps.step("root base") {
                try store.entry(base.entryName) { folder in
                    if substitute(base.entryName, into: folder, progress: progress) { return }
                    reused = false
                    let initramfs = try initramfsImages?()
                    try base.make(in: folder, initramfs: initramfs, scratch: baseTools.scratch, tools: baseTools) { needed in
                        DefinitionError(.invalid, [Diagnostic(
                            "the root file system needs about \(ByteCount(bytes: needed).rounded) but the root size is \(model.disk.rootSize)",
                            at: model.location(of: "rootSize"))])
                    }
                }
            }
            try steps.step("copy root base") {
                try baseTools.run("/bin/cp", ["--sparse=always", entry.appendingPathComponent("disk.raw").path, rootDisk.path])
            }
            return reused
        }
        defer { _ = try? preparing.wait() }
        // The layer's files stay as they are: an initramfs, which is the whole tree, is
        // configured on a hard-link copy, a disk's root in a folder of changes above the layer.
        let layerTree = layerEntry.appendingPathComponent("tree")
        let tree = model.format == .initramfs
            ? try steps.step("link tree") { try ConfiguredTree.copy(of: layerTree, at: scratch.appendingPathComponent("root"), tools: tools) }
            : try ConfiguredTree.overlay(on: layerTree, in: scratch)
        let ids = ImageIdentifiers(digest: digest.hex)
        // The disk's other parts (partitions, boot loader) are made meanwhile, in a folder of their own.
        let assembler = DiskAssembler(model: model, rootDisk: { try preparing.wait(); return rootDisk }, ids: ids,
                                      sourceDateEpoch: set.sourceDateEpoch, scratch: scratch.appendingPathComponent("disk"))
        try FileManager.default.createDirectory(at: assembler.scratch, withIntermediateDirectories: false)
        let parts = model.format == .initramfs ? nil : BackgroundWork { try assembler.makeParts { title, work in try steps.step(title, work) } }
        defer { _ = try? parts?.wait() }
        try steps.step("configure") {
            try SystemConfigurator(model: model, tree: tree, ids: ids, aptSources: sources, sourceDateEpoch: set.sourceDateEpoch,
                                   store: store, rootBase: base.entryName).apply()
        }
        try steps.step("verify") {
            try Self.refuse(TreeVerification(model: model, tree: tree, scratch: scratch).problems(), progress: progress)
        }
        // Beside what a build makes: its system, its lock set, its log.
        func describe(_ folder: URL) throws {
            try steps.step("sbom") {
                let (spdx, cycloneDX) = try sboms.wait()
                try spdx.write(to: ImageEntry(folder: folder).spdxFile)
                try cycloneDX.write(to: ImageEntry(folder: folder).cycloneDXFile)
            }
            try system.canonicalJSON.write(to: folder.appendingPathComponent("system.json"))
            try CanonicalJSON.encode(value: set).write(to: folder.appendingPathComponent("lock.json"))
            try steps.text.write(to: folder.appendingPathComponent("build.log"), atomically: true, encoding: .utf8)
        }
        if model.format == .initramfs {
            let entry = try store.entry(name) { folder in
                let built = ImageEntry(folder: folder)
                try steps.step("initramfs") {
                    try Initramfs.write(tree.root, to: built.initramfs, time: set.sourceDateEpoch)
                    try FileManager.default.copyItem(at: try Initramfs.kernel(in: tree.root), to: built.kernel)
                }
                let sha = try steps.step("checksum") { try SparseFile.sha256(of: built.initramfs) }
                try describe(folder)
                try built.record(checksum: sha, of: built.initramfs, inputs: [layerEntry.lastPathComponent])
            }
            try store.recordRoot(entry, for: model.hostName)
            return Result(digest: digest, entry: ImageEntry(folder: entry), reused: false, packageLayerReused: layerReused, layers: layers,
                          rootBaseReused: true)
        }
        var delta = TreeDelta(original: layerTree, changes: tree.upper, time: set.sourceDateEpoch)
        try steps.step("changes") { try delta.compute() }
        let entry = try store.entry(name) { folder in
            let built = ImageEntry(folder: folder)
            let changed = try assembler.assemble(try parts!.wait(), delta: delta, into: built.disk) { title, work in try steps.step(title, work) }
            // The root base's blocks are known: only what configuration wrote, and what lies
            // outside the root file system, is read again.
            let diskDigest = try steps.step("digest") {
                let start = DiskAssembler.rootStart(model) * DiskAssembler.sector
                guard let known = store.entry(base.entryName).flatMap(RootBase.blockList(in:)) else { return try DiskDigest.of(built.disk) }
                return try DiskDigest.of(built.disk, sameAs: known, in: start..<(start + Int(model.disk.rootSize.bytes)), except: changed)
            }
            if model.disk.rootSlots == .ab {
                try steps.step("block index") {
                    let start = DiskAssembler.rootStart(model) * DiskAssembler.sector
                    let slot = SlotImage(partitions: DiskAssembler.partitionTable(model),
                                         head: try BlockIndex.make(of: built.disk, offset: 0, length: start),
                                         slot: try BlockIndex.make(of: built.disk, offset: start, length: Int(model.disk.rootSize.bytes)))
                    try CanonicalJSON.encode(value: slot).write(to: built.slotImageFile)
                }
            }
            try describe(folder)
            // The entries it was made from, which garbage collection keeps with it.
            let inputs = [layerEntry.lastPathComponent, base.entryName]
                + [initramfsName.flatMap { store.entry($0)?.lastPathComponent },
                   SystemConfigurator.localeEntryName(model, rootBase: base.entryName)].compactMap { $0 }
            try built.record(digest: diskDigest, inputs: inputs)
        }
        try store.recordRoot(entry, for: model.hostName)
        return Result(digest: digest, entry: ImageEntry(folder: entry), reused: false, packageLayerReused: layerReused, layers: layers,
                      rootBaseReused: try preparing.wait())
    }

    /// Throws the errors among `problems`; warnings are reported and the build goes on.
    private static func refuse(_ problems: [Diagnostic], progress: ProgressReporter) throws {
        if problems.contains(where: { $0.severity == .error }) { throw DefinitionError(.invalid, problems) }
        for warning in problems { progress(warning.description) }
    }

    /// Brings the locked packages of the package layers each system's build will make (those
    /// above the highest layer the store or the shared store holds, unless one holds the image)
    /// into the store's .deb cache, so that a package no origin has stops the build before any work.
    public func fetchPackages(
        _ systems: [Evaluation.System], lock: PackageLock, lockFile: URL, progress: ProgressReporter = .silent
    ) throws {
        func held(_ name: String) -> Bool { store.entry(name) != nil || (try? sharedStore?.holds(name)) == true }
        for system in systems {
            var set = try lock.set(for: system.model, lockFile: lockFile)
            guard !held(ImageEntry.name(digest: try Self.digest(of: system, set: set), host: system.model.hostName)) else { continue }
            var needed: [LockedPackage] = []
            for layer in PackageLayer.chain(of: set, debs: DebCache(store: store)).reversed() {
                if held(layer.entryName) { break }
                needed += layer.packages
            }
            guard !needed.isEmpty else { continue }
            set.packages = needed
            try fetchPackages(system.model, set: set, lockFile: lockFile, progress: progress)
        }
    }

    /// Where the locked packages of `model` may come from, in order: the shared store, the apt
    /// sources (the system's, else the build host's), then its snapshot archives at the lock's times.
    public func packageOrigins(_ model: SystemModel, set: PackageLock.PackageSet) -> [PackageOrigin] {
        let sources = model.aptSources.isEmpty ? HostAptSources.read(for: model.distribution.release) : model.aptSources
        // A lock written before releases were recorded: each source's archive at its newest date.
        let releases = set.releases ?? sources.flatMap(\.uris).map {
            PackageLock.Release(archive: URL(string: $0)?.lastPathComponent ?? "", suite: "", date: set.sourceDateEpoch)
        }
        return (sharedStore.map { [SharedStoreOrigin(client: $0)] } ?? [])
            + ArchiveOrigin.aptSources(sources) + ArchiveOrigin.snapshots(model.snapshotArchives ?? [], releases: releases)
    }

    private func fetchPackages(_ model: SystemModel, set: PackageLock.PackageSet, lockFile: URL, progress: ProgressReporter) throws {
        let debs = DebCache(store: store)
        do {
            try debs.fetch(set, origins: packageOrigins(model, set: set), progress: progress)
        } catch let error as UnavailablePackages {
            let count = error.packages.count
            var lines = ["\(count) locked package\(count == 1 ? " is" : "s are") in none of the places tried:"]
            for (package, reasons) in error.packages {
                lines.append("  \(package.name) \(package.version) (\(package.architecture))")
                lines += reasons.map { "    \($0)" }
            }
            lines.append("tried: the store's .deb cache (\(debs.directory.path)), "
                + (error.tried + (model.snapshotArchives?.isEmpty ?? true ? ["no snapshot archive (the definition declares none)"] : []))
                    .joined(separator: ", "))
            let definition = PackageLock.definitionPath(for: lockFile)
            lines.append("Either declare a snapshot archive that has \(count == 1 ? "it" : "them") "
                + "(SnapshotArchive(\"https://…/archive/{archive}/{timestamp}/\") in a template), "
                + "or move what left the archive to what it serves now, keeping the rest: imagec lock --update \(definition)")
            throw BuildEnvironmentError(lines.joined(separator: "\n"), file: lockFile.path)
        }
    }

    /// The entry `name` taken from the shared store into the store, or `nil` when the shared
    /// store does not hold it or it cannot be had (said in `progress`: the build goes on).
    func substitute(_ name: String, progress: ProgressReporter) throws -> URL? {
        guard sharedStore != nil else { return nil }
        struct NotShared: Error {}
        do {
            return try store.entry(name) { folder in
                guard substitute(name, into: folder, progress: progress) else { throw NotShared() }
            }
        } catch is NotShared {
            return nil
        }
    }

    /// Fills `folder` with the entry `name` of the shared store; false, with `folder` left
    /// empty, when it does not hold it or it cannot be had (said in `progress`).
    func substitute(_ name: String, into folder: URL, progress: ProgressReporter) -> Bool {
        guard let sharedStore else { return false }
        let started = Date()
        do {
            guard let bytes = try sharedStore.fetch(name, into: folder) else { return false }
            progress("substituted \(name) from \(sharedStore.description): \(ByteCount(bytes: UInt64(bytes)).rounded) "
                + "in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
            return true
        } catch {
            progress("warning: not taking \(name) from the shared store: \(error)")
            for file in (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? [] {
                try? FileManager.default.removeItem(at: file)
            }
            return false
        }
    }

    /// Pushes what a build made to the shared store, signed with `key`: the locked .debs, the
    /// entries the image was made from (package layer, root base, compiled locales), then the
    /// image entry itself, last.
    /// - Returns: the bytes written.
    @discardableResult
    public func push(_ result: Result, set: PackageLock.PackageSet, key: StoreSigningKey, progress: ProgressReporter = .silent) throws -> Int {
        guard let sharedStore else { throw BuildEnvironmentError("the system declares no SharedStore") }
        let started = Date()
        var bytes = 0
        let debs = DebCache(store: store)
        let staging = store.root.appendingPathComponent(".tmp-\(getpid())-shared-push")
        try? FileManager.default.removeItem(at: staging)
        Interruption.removeOnInterrupt(staging)
        defer {
            try? FileManager.default.removeItem(at: staging)
            Interruption.forget(staging)
        }
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        for package in set.packages where FileManager.default.fileExists(atPath: debs.file(for: package).path) {
            let folder = staging.appendingPathComponent(SharedStoreOrigin.entryName(package))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: debs.file(for: package).resolvingSymlinksInPath(), to: folder.appendingPathComponent("deb"))
            bytes += try sharedStore.push(folder, key: key)
        }
        // The entries it was made from, and theirs (each package layer's is the one below it).
        var inputs = result.entry.inputs(), pushed = Set<String>()
        while let input = inputs.popLast() {
            guard pushed.insert(input).inserted, let entry = store.entry(input) else { continue }
            bytes += try sharedStore.push(entry, key: key, scratch: staging)
            inputs += ImageEntry(folder: entry).inputs()
        }
        bytes += try sharedStore.push(result.entry.folder, key: key)
        progress("pushed \(result.entry.name) to \(sharedStore.description): \(ByteCount(bytes: UInt64(bytes)).rounded) written "
            + "in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        return bytes
    }

    /// Builds `result`'s system again in a new, empty store (sharing only the downloaded .debs)
    /// and compares the images. Returns `nil` when every byte is the same, else what differs.
    public func check(
        _ result: Result, system: Evaluation.System, lock: PackageLock, lockFile: URL, progress: ProgressReporter = .silent
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
        let entry = try store.entry("\(result.digest.hex)-\(hostName)-qcow2") { folder in
            try Tools(environment: ["LC_ALL": "C"], scratch: folder).run(
                "/usr/bin/qemu-img", ["convert", "-f", "raw", "-O", "qcow2", result.image.path, folder.appendingPathComponent("disk.qcow2").path])
            try? FileManager.default.removeItem(at: folder.appendingPathComponent("tool-output.txt"))
        }
        return entry.appendingPathComponent("disk.qcow2")
    }
}

/// A build's steps, each reported when it starts and when it ends with its duration, which the
/// build log keeps. Two threads may take steps at once.
private final class StepLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines = ""
    private let progress: ProgressReporter

    init(progress: ProgressReporter) { self.progress = progress }

    /// The log: a line per finished step.
    var text: String { lock.withLock { lines } }

    /// A step whose result was found: reported as taking no time.
    func found(_ title: String) { step(title) {} }

    @discardableResult
    func step<T>(_ title: String, _ work: () throws -> T) rethrows -> T {
        let started = Date()
        progress(.stepStarted(title))
        let value = try work()
        let finished = ProgressEvent(.stepFinished(title, seconds: Date().timeIntervalSince(started)))
        lock.withLock { lines += finished.text + "\n" }
        progress.report(finished)
        return value
    }
}
