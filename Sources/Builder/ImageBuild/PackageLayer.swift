import Foundation
import ImagecCore
import ImageDSL
import Packages

/// The package layer: a root file system with exactly the locked packages installed and
/// configured, as a tree (`tree/`) in the store. It depends only on the lock set (and imagec's
/// recipe), so changing a system's configuration reuses it.
///
/// mmdebstrap installs from a local repository made of the store's .debs, in its `unshare`
/// mode (no mounts on the host), in memory when there is room (`MemoryScratch`), with
/// `SOURCE_DATE_EPOCH` from the lock; no file is newer than that date, so two builds give the
/// same tree. The tree is never edited in place: builds configure a hard-link copy of it.
struct PackageLayer {
    /// Changes whenever the recipe below changes.
    static let recipeVersion = 6

    let set: PackageLock.PackageSet
    let debs: DebCache

    /// The store entry name: the hash of everything the layer is made from.
    var entryName: String {
        var identity = "imagec package layer \(Self.recipeVersion)\n\(set.distribution.vendor) \(set.distribution.release) "
            + "\(set.architecture.rawValue) \(set.sourceDateEpoch)\n"
        identity += "include \(set.requested.joined(separator: " "))\n"
        for package in set.packages { identity += "\(package.name) \(package.version) \(package.architecture) \(package.sha256)\n" }
        return "\(CanonicalJSON.sha256(Data(identity.utf8)))-rootfs-\(set.distribution.release)-\(set.architecture.rawValue)"
    }

    /// Makes the layer's files in `folder`: `tree/` and `build.log`.
    func make(in folder: URL, scratch: URL, progress: ProgressReporter) throws {
        let repository = scratch.appendingPathComponent("repository")
        try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
        for package in set.packages {
            let name = "\(package.name)_\(package.version.replacingOccurrences(of: ":", with: "%3a"))_\(package.architecture).deb"
            // A hard link (a copy across file systems): apt-ftparchive would record where a
            // symbolic link leads, which mmdebstrap's copy:// source cannot follow.
            let file = debs.file(for: package).resolvingSymlinksInPath(), target = repository.appendingPathComponent(name)
            if link(file.path, target.path) != 0 { try FileManager.default.copyItem(at: file, to: target) }
        }
        let index = try Command(executable: "/usr/bin/apt-ftparchive", arguments: ["packages", "."], workingDirectory: repository)
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

        // An installed tree takes about three times its .debs.
        let debBytes = set.packages.reduce(UInt64(0)) { $0 + UInt64($1.size) }
        let work = try MemoryScratch("layer-tree", needing: 4 * debBytes + (512 << 20), fallback: scratch)
        defer { work.remove() }
        let tree = work.url.appendingPathComponent("tree")
        progress("installing \(set.packages.count) packages with mmdebstrap\(work.url.path.hasPrefix("/dev/shm/") ? " in memory" : "")")
        var environment = ProcessInfo.processInfo.environment
        environment["SOURCE_DATE_EPOCH"] = String(set.sourceDateEpoch)
        environment["TMPDIR"] = work.url.path
        environment["LC_ALL"] = "C"
        // Package configuration, not download, is what takes time. The initramfs is made
        // once at the end instead of after the kernel and again by its trigger, compressed
        // with gzip's fastest level (3 s less than its default, for a 12 % larger file; the
        // machine's own later updates use the default again); man-db's index
        // is not rebuilt after each package (its daily timer does it); dpkg does not fsync
        // files of a tree that is thrown away if the build fails.
        let essentialHooks = [
            #"echo "man-db man-db/auto-update boolean false" | chroot "$1" debconf-set-selections"#,
            #"chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs && ln -s /bin/true "$1/usr/sbin/update-initramfs""#,
        ]
        let customizeHooks = [
            #"rm "$1/usr/sbin/update-initramfs" && chroot "$1" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs"#,
            #"if [ -x "$1/usr/sbin/update-initramfs" ] && ls "$1"/boot/vmlinuz-* >/dev/null 2>&1; then chroot "$1" env COMPRESSLEVEL=1 update-initramfs -c -k all; fi"#,
            #"echo "man-db man-db/auto-update boolean true" | chroot "$1" debconf-set-selections"#,
            // Nothing of the build host, of mmdebstrap, secret or machine-unique.
            #"rm -f "$1/etc/resolv.conf" "$1/etc/hostname" "$1/var/lib/systemd/random-seed""#,
            MachineUniqueState.removalHook,
            #"rm -f "$1/etc/dpkg/dpkg.cfg.d/99mmdebstrap" "$1/etc/apt/apt.conf.d/99mmdebstrap""#,
            #": > "$1/etc/machine-id""#,
            #"rm -f "$1/etc/apt/sources.list" "$1"/etc/apt/sources.list.d/*"#,
        ]
        var arguments = [
            // Every locked package by name: the repository holds only the locked versions, so
            // this installs exactly the lock.
            "--mode=unshare", "--variant=apt", "--format=directory", "--dpkgopt=force-unsafe-io",
            "--include=\(set.packages.map(\.name).joined(separator: ","))",
            "--aptopt=APT::Install-Recommends \"false\"",
        ]
        arguments += essentialHooks.map { "--essential-hook=\($0)" } + customizeHooks.map { "--customize-hook=\($0)" }
        arguments += [set.distribution.release, tree.path,
                      "deb [trusted=yes] copy://\(repository.path) ./"]
        let result = try Command(executable: "/usr/bin/mmdebstrap", arguments: arguments, environment: environment)
            .run(timeout: 3600, outputFile: folder.appendingPathComponent("build.log"))
        guard result.status == 0 else { throw ToolError("mmdebstrap", result) }
        try checkInstalled(tree)

        let tools = Tools(environment: ["LC_ALL": "C"], scratch: scratch)
        // Files maintainer scripts wrote get the lock's date, like those from the packages.
        try tools.run("/bin/sh", ["-c", #"find "$1" -newermt "@$2" -print0 | xargs -0r touch -h -d "@$2""#,
                                  "sh", tree.path, String(set.sourceDateEpoch)])
        let destination = folder.appendingPathComponent("tree")
        if work.isOnOtherFileSystem(than: folder) {
            try tools.run("/bin/cp", ["-a", tree.path, destination.path])
        } else {
            try FileManager.default.moveItem(at: tree, to: destination)
        }
    }

    /// The layer must hold exactly the locked packages: no more, no fewer.
    private func checkInstalled(_ tree: URL) throws {
        let text = try String(contentsOf: tree.appendingPathComponent("var/lib/dpkg/status"), encoding: .utf8)
        let installed = Set(text.split(separator: "\n").filter { $0.hasPrefix("Package: ") }.map { String($0.dropFirst(9)) })
        let locked = Set(set.packages.map(\.name))
        guard installed == locked else {
            throw BuildEnvironmentError(
                "the package layer does not match the lock: installed but not locked: "
                    + "\(installed.subtracting(locked).sorted()), locked but not installed: \(locked.subtracting(installed).sorted())")
        }
    }
}
