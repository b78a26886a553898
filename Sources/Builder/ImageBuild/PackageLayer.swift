import Foundation
import ImagecCore
import ImageDSL
import Packages

/// A package layer: a root file system with the locked packages of a template's layer and of
/// every layer below it installed and configured, as a tree (`tree/`) in the store. It depends
/// only on those packages, the layers below and imagec's recipe, so systems that share
/// templates share it, and changing a system's configuration reuses it.
///
/// The bottom layer is made by mmdebstrap from a local repository of the store's .debs, in its
/// `unshare` mode (no mounts on the host), in memory when there is room (`MemoryScratch`). A
/// layer above starts from a copy, in name order, of the layer below's tree (from its entry,
/// or from memory when it was just made: the same files, so it does not matter which) and
/// installs its own packages with apt, as `apt-get install` does on a running machine.
/// Every layer has `SOURCE_DATE_EPOCH` from the lock; no file is newer than that date, so two
/// builds give the same tree. Trees are never edited in place: builds configure a hard-link copy.
struct PackageLayer {
    /// Changes whenever the recipe below changes.
    static let recipeVersion = 9

    let set: PackageLock.PackageSet
    let layer: PackageLock.Layer
    /// What this layer installs, and what it holds with the layers below.
    let packages: [LockedPackage]
    let installed: [LockedPackage]
    /// The store entry of the layer below; `nil` for the bottom one.
    let parent: String?
    let debs: DebCache

    /// The layers of `set`, bottom to top, each with the entry name of the one below. A layer
    /// that adds nothing is the one below it, and is left out.
    static func chain(of set: PackageLock.PackageSet, debs: DebCache) -> [PackageLayer] {
        var chain: [PackageLayer] = []
        var installed: [LockedPackage] = []
        for (layer, packages) in zip(set.effectiveLayers, set.layerPackages) where !packages.isEmpty {
            installed += packages
            chain.append(PackageLayer(set: set, layer: layer, packages: packages, installed: installed,
                                      parent: chain.last?.entryName, debs: debs))
        }
        return chain
    }

    /// The store entry name: the hash of everything the layer is made from.
    var entryName: String {
        var identity = "imagec package layer \(Self.recipeVersion)\n\(set.distribution.vendor) \(set.distribution.release) "
            + "\(set.architecture.rawValue) \(layer.sourceDateEpoch)\nparent \(parent ?? "none")\n"
        for package in packages { identity += "\(package.name) \(package.version) \(package.architecture) \(package.sha256)\n" }
        return "\(CanonicalJSON.sha256(Data(identity.utf8)))-rootfs-\(set.distribution.release)-\(set.architecture.rawValue)"
    }

    /// The initramfs made from this layer's tree, with its date.
    var initramfs: InitramfsEntry { InitramfsEntry(layer: entryName, sourceDateEpoch: layer.sourceDateEpoch) }

    /// Where the layer's definition starts, for progress lines: `templates/Lab.swift:38`.
    var stage: String { layer.stage.isEmpty ? "the system" : layer.stage }

    /// Makes the layer's files in `folder`: `tree/`, `build.log`, `initramfs-layer` and, above
    /// the bottom layer, `inputs` (the entry below, which garbage collection keeps with it).
    /// `parentTree` is the tree of the layer below.
    func make(in folder: URL, on parentTree: URL?, scratch: URL, progress: ProgressReporter) throws {
        let installed = try install(in: folder, copying: parentTree, scratch: scratch, progress: progress)
        defer { installed.remove() }
        try store(installed, in: folder, below: parentTree, scratch: scratch)
    }

    /// Installs the layer's packages on a copy of `parentTree` (the tree of the layer below, from
    /// its entry or, just made, from memory) into a scratch folder, in memory when there is room;
    /// mmdebstrap's log goes to `folder/build.log`. The scratch's `tree/` is then the layer's
    /// whole tree, its times clamped, ready for `store(_:in:below:scratch:)`.
    func install(in folder: URL, copying parentTree: URL?, scratch: URL, progress: ProgressReporter) throws -> MemoryScratch {
        let repository = try makeRepository(in: scratch, progress: progress)
        // An installed tree takes about three times its .debs.
        let debBytes = installed.reduce(UInt64(0)) { $0 + UInt64($1.size) }
        let work = try MemoryScratch("layer-tree", needing: 4 * debBytes + (512 << 20), fallback: scratch)
        do {
            let tree = Self.tree(in: work)
            progress("installing \(packages.count) packages\(parentTree == nil ? "" : " for \(stage)") with "
                + "\(parentTree == nil ? "mmdebstrap" : "apt")\(work.url.path.hasPrefix("/dev/shm/") ? " in memory" : "")")
            var environment = ProcessInfo.processInfo.environment
            environment["SOURCE_DATE_EPOCH"] = String(layer.sourceDateEpoch)
            environment["TMPDIR"] = work.url.path
            environment["LC_ALL"] = "C"
            var arguments = ["--mode=unshare", "--format=directory", "--dpkgopt=force-unsafe-io", "--aptopt=APT::Install-Recommends \"false\""]
            if let parentTree {
                arguments += Self.upperLayerOptions(on: parentTree, copied: Self.copied(in: work), touched: Self.touchedInitramfs(in: work),
                                                    installing: packages)
            } else {
                arguments += Self.bottomLayerOptions(installing: packages)
            }
            // mmdebstrap copies in the build host's name, which maintainer scripts may read (into a
            // mail configuration, say): a fixed one instead, so no host's name reaches the layer.
            arguments.append(#"--setup-hook=echo localhost > "$1/etc/hostname""#)
            arguments += Self.finishingHooks.map { "--customize-hook=\($0)" }
            arguments += [set.distribution.release, tree.path, "deb [trusted=yes] copy://\(repository.path) ./"]
            let result = try Command(executable: "/usr/bin/mmdebstrap", arguments: arguments, environment: environment)
                .run(timeout: 3600, outputFile: folder.appendingPathComponent("build.log"))
            guard result.status == 0 else { throw ToolError("mmdebstrap", result) }
            try checkInstalled(tree)

            // Files maintainer scripts wrote get the lock's date, like those from the packages.
            try Tools(environment: ["LC_ALL": "C"], scratch: scratch).run("/bin/sh", [
                "-c", #"find "$1" -newermt "@$2" -print0 | xargs -0r touch -h -d "@$2""#, "sh", tree.path, String(layer.sourceDateEpoch),
            ])
            return work
        } catch {
            work.remove()
            throw error
        }
    }

    /// The layer's tree in the scratch `install` made.
    static func tree(in work: MemoryScratch) -> URL { work.url.appendingPathComponent("tree") }
    private static func copied(in work: MemoryScratch) -> URL { work.url.appendingPathComponent("copied") }
    private static func touchedInitramfs(in work: MemoryScratch) -> URL { work.url.appendingPathComponent("initramfs-inputs-changed") }

    /// Puts the tree `install` made into the entry `folder`, with the entry's other files:
    /// moved when on the same file system, else copied (above the bottom layer, as hard links
    /// to `parentTree`, the tree of the entry below).
    func store(_ work: MemoryScratch, in folder: URL, below parentTree: URL?, scratch: URL) throws {
        let tree = Self.tree(in: work)
        let tools = Tools(environment: ["LC_ALL": "C"], scratch: scratch)
        let destination = folder.appendingPathComponent("tree")
        if !work.isOnOtherFileSystem(than: folder) {
            try FileManager.default.moveItem(at: tree, to: destination)
        } else if let parentTree {
            try tools.run("/bin/sh", ["-c", Self.linkedCopy, "sh", tree.path, parentTree.path, destination.path,
                                      Self.copied(in: work).path, work.url.path])
        } else {
            try tools.run("/bin/cp", ["-a", tree.path, destination.path])
        }
        if let parent { try (parent + "\n").write(to: folder.appendingPathComponent("inputs"), atomically: true, encoding: .utf8) }
        let initramfsLayer = parentTree.flatMap { parentTree in
            FileManager.default.fileExists(atPath: Self.touchedInitramfs(in: work).path)
                ? nil : Self.initramfsLayer(of: parentTree.deletingLastPathComponent())
        } ?? entryName
        try (initramfsLayer + "\n").write(to: folder.appendingPathComponent("initramfs-layer"), atomically: true, encoding: .utf8)
    }

    /// The layer an entry's initramfs is made from (`InitramfsEntry`): the highest layer of
    /// its chain whose packages changed what the initramfs is made of, the bottom one at least.
    static func initramfsLayer(of entry: URL) -> String? {
        (try? String(contentsOf: entry.appendingPathComponent("initramfs-layer"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Copies a layer's tree (`$1`) to the store (`$3`) as hard links to the tree below (`$2`),
    /// but for what the install removed, and what it wrote or changed (ctime newer than the
    /// copy, `$4`), which is copied, with every folder's attributes. Files are replaced, never
    /// written through a link: the tree below is not touched. So a layer takes on disk only
    /// what it adds, and is written in a fraction of the time. The copy is then checked
    /// against the tree: names, types, modes, owners, times, sizes and link targets.
    private static let linkedCopy = #"""
        set -e
        export LC_ALL=C
        new=$1 parent=$2 destination=$3 copied=$4 work=$5
        cp -al "$parent" "$destination"
        (cd "$parent" && find . -mindepth 1 -print0 | sort -z) > "$work/below"
        (cd "$new" && find . -mindepth 1 -print0 | sort -z) > "$work/above"
        comm -z -23 "$work/below" "$work/above" | (cd "$destination" && xargs -0r rm -rf --)
        # What changed is removed first (a folder where a file was, or the reverse, too), so
        # that tar makes new files instead of writing into the links.
        (cd "$new" && find . -mindepth 1 ! -type d -cnewer "$copied" -print0) | (cd "$destination" && xargs -0r rm -rf --)
        (cd "$new" && find . -mindepth 1 -type d -print0) | (cd "$destination" && xargs -0r sh -c '
            for path; do if [ -L "$path" ] || { [ -e "$path" ] && [ ! -d "$path" ]; }; then rm -f -- "$path"; fi; done' sh)
        (cd "$new" && find . -mindepth 1 \( -type d -o -cnewer "$copied" \) -print0) > "$work/changed"
        tar -C "$new" --null --no-recursion -T "$work/changed" --xattrs --xattrs-include='*' --numeric-owner -c \
            | tar -C "$destination" -x --xattrs --xattrs-include='*' --same-owner --numeric-owner
        listing() {
            (cd "$1" && find . \( -type d -printf '%y %m %U %G %T@ %p\n' \) -o -printf '%y %m %U %G %T@ %s %p %l\n' | sort)
        }
        listing "$new" > "$work/made"
        listing "$destination" > "$work/stored"
        cmp -s "$work/made" "$work/stored" || {
            echo "the layer's copy in the store differs from the tree made:"
            diff "$work/made" "$work/stored" | head -20
            exit 1
        } >&2
        """#

    /// A repository of the layer's .debs, which is all apt can install from.
    private func makeRepository(in scratch: URL, progress: ProgressReporter) throws -> URL {
        let repository = scratch.appendingPathComponent("repository")
        try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
        // Uncompressed, on every core: dpkg would otherwise spend a third of the install in xz.
        let unpacked = packages.filter { !FileManager.default.fileExists(atPath: debs.plainFile(for: $0).path) }
        if !unpacked.isEmpty { progress("decompressing \(unpacked.count) packages for dpkg") }
        let files = try debs.installable(packages, jobs: ProcessInfo.processInfo.activeProcessorCount)
        for (package, file) in zip(packages, files) {
            let name = "\(package.name)_\(package.version.replacingOccurrences(of: ":", with: "%3a"))_\(package.architecture).deb"
            // A hard link (a copy across file systems): apt-ftparchive would record where a
            // symbolic link leads, which mmdebstrap's copy:// source cannot follow.
            let target = repository.appendingPathComponent(name)
            if link(file.path, target.path) != 0 { try FileManager.default.copyItem(at: file, to: target) }
        }
        // SHA-256 only: MD5, SHA-1 and SHA-512 of every file cost seconds (the plain forms are
        // five times the .debs) and apt needs just one strong hash.
        let hashes = ["MD5", "SHA1", "SHA512"].flatMap { ["-o", "APT::FTPArchive::\($0)=false"] }
        let index = try Command(executable: "/usr/bin/apt-ftparchive", arguments: hashes + ["packages", "."], workingDirectory: repository)
            .run(timeout: 600, outputFile: scratch.appendingPathComponent("Packages"))
        guard index.status == 0 else { throw ToolError("apt-ftparchive packages", index) }
        try FileManager.default.moveItem(at: scratch.appendingPathComponent("Packages"), to: repository.appendingPathComponent("Packages"))
        // A Release file naming the suite, so mmdebstrap's selection of the Essential packages
        // (narrowed to the suite) finds them in this repository.
        let release = try Command(
            executable: "/usr/bin/apt-ftparchive",
            arguments: ["-o", "APT::FTPArchive::Release::Suite=\(set.distribution.release)",
                        "-o", "APT::FTPArchive::Release::Codename=\(set.distribution.release)", "release", "."],
            workingDirectory: repository
        ).run(timeout: 600, outputFile: scratch.appendingPathComponent("Release"))
        guard release.status == 0 else { throw ToolError("apt-ftparchive release", release) }
        try FileManager.default.moveItem(at: scratch.appendingPathComponent("Release"), to: repository.appendingPathComponent("Release"))
        return repository
    }

    // Package configuration, not download, is what takes time. No layer makes the initramfs
    // (neither after the kernel, nor by its trigger): it is a store entry of its own,
    // `InitramfsEntry`, made beside the layers above; man-db's index is not rebuilt after each
    // package (its daily timer does it); dpkg does not fsync files of a tree that is thrown
    // away if the build fails.
    private static let divertInitramfs =
        #"chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs && ln -s /bin/true "$1/usr/sbin/update-initramfs""#
    private static let undivertInitramfs =
        #"rm "$1/usr/sbin/update-initramfs" && chroot "$1" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs"#
    private static func manDBUpdates(_ on: Bool) -> String {
        #"echo "man-db man-db/auto-update boolean \#(on)" | chroot "$1" debconf-set-selections"#
    }

    /// The bottom layer: mmdebstrap installs Essential, then every package of the layer by name
    /// (the repository holds only the locked versions, so this installs exactly the lock).
    private static func bottomLayerOptions(installing packages: [LockedPackage]) -> [String] {
        ["--variant=apt", "--include=\(packages.map(\.name).joined(separator: ","))",
         "--essential-hook=\(manDBUpdates(false))", "--essential-hook=\(divertInitramfs)",
         "--customize-hook=\(undivertInitramfs)"]
    }

    /// A layer above: the tree below copied in name order (so the copy's order depends neither on
    /// the store's file system nor on how that tree came to be), then apt installs the layer's
    /// packages by name. `touched` is made when the install changed what the initramfs is made of.
    private static func upperLayerOptions(on parentTree: URL, copied: URL, touched: URL, installing packages: [LockedPackage]) -> [String] {
        func quoted(_ url: URL) -> String { "'" + url.path.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }
        // Every extended attribute (tar keeps only user.* without the pattern): file capabilities too.
        let copy = "tar --sort=name --xattrs --xattrs-include='*' --numeric-owner --exclude='./dev/*' -C \(quoted(parentTree)) -c . "
            + #"| tar -x --xattrs --xattrs-include='*' --same-owner --numeric-owner -C "$1" && touch "# + quoted(copied)
        let install = #"APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get install -y -q --no-install-recommends -o DPkg::Chroot-Directory="$1" "#
            + packages.map(\.name).joined(separator: " ")
        // The initramfs's inputs: its hooks and configuration, modules, firmware, the site's udev
        // rules and network links, the libraries' search path, the kernel. Not usr/lib/udev: the
        // udev hook takes from it only files of the udev package (in the bottom layer, never
        // changed above it), and a package whose rules belong in the initramfs ships a hook.
        let inputs = ["usr/share/initramfs-tools", "etc/initramfs-tools", "usr/lib/modules", "usr/lib/firmware", "etc/modprobe.d",
                      "usr/lib/modprobe.d", "etc/udev", "usr/lib/systemd/network", "etc/systemd/network",
                      "etc/ld.so.conf", "etc/ld.so.conf.d", "boot"]
        let changed = "find " + inputs.map { #""$1/\#($0)""# }.joined(separator: " ")
            + " -cnewer \(quoted(copied)) 2>/dev/null | grep -q ."

        return [
            "--variant=custom",
            "--setup-hook=\(copy)",
            "--customize-hook=\(manDBUpdates(false))", "--customize-hook=\(divertInitramfs)",
            "--customize-hook=\(install)",
            "--customize-hook=\(undivertInitramfs)",
            "--customize-hook=if \(changed); then touch \(quoted(touched)); fi",
        ]
    }

    /// After the install, in every layer: nothing of the build host, of mmdebstrap, secret or machine-unique.
    private static let finishingHooks = [
        manDBUpdates(true),
        #"rm -f "$1/etc/resolv.conf" "$1/etc/hostname" "$1/var/lib/systemd/random-seed""#,
        MachineUniqueState.removalHook,
        #"rm -f "$1/etc/dpkg/dpkg.cfg.d/99mmdebstrap" "$1/etc/apt/apt.conf.d/99mmdebstrap""#,
        #": > "$1/etc/machine-id""#,
        #"rm -f "$1/etc/apt/sources.list" "$1"/etc/apt/sources.list.d/*"#,
    ]

    /// The layer must hold exactly the locked packages: no more, no fewer.
    private func checkInstalled(_ tree: URL) throws {
        let text = try String(contentsOf: tree.appendingPathComponent("var/lib/dpkg/status"), encoding: .utf8)
        let inTree = Set(text.split(separator: "\n").filter { $0.hasPrefix("Package: ") }.map { String($0.dropFirst(9)) })
        let locked = Set(installed.map(\.name))
        guard inTree == locked else {
            throw BuildEnvironmentError(
                "the package layer does not match the lock: installed but not locked: "
                    + "\(inTree.subtracting(locked).sorted()), locked but not installed: \(locked.subtracting(inTree).sorted())")
        }
    }
}
