import Foundation
import ImageDSL

/// The package layer: a root file system with exactly the locked packages installed and
/// configured, as a tarball in the store. It depends only on the lock set (and imagec's
/// recipe), so changing a system's configuration reuses it.
///
/// mmdebstrap installs from a local repository made of the store's .debs, in its `unshare`
/// mode (no mounts on the host), with `SOURCE_DATE_EPOCH` from the lock, so two builds give
/// the same tarball.
struct PackageLayer {
    /// Changes whenever the recipe below changes.
    static let recipeVersion = 1

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

    /// Makes the layer's files in `folder`: `rootfs.tar` and `build.log`.
    func make(in folder: URL, scratch: URL, progress: (String) -> Void) throws {
        let repository = scratch.appendingPathComponent("repository")
        try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
        for package in set.packages {
            let name = "\(package.name)_\(package.version.replacingOccurrences(of: ":", with: "%3a"))_\(package.architecture).deb"
            try FileManager.default.createSymbolicLink(at: repository.appendingPathComponent(name), withDestinationURL: debs.file(for: package))
        }
        let index = try Command(executable: "/usr/bin/apt-ftparchive", arguments: ["packages", "."], workingDirectory: repository)
            .run(timeout: 600, outputFile: scratch.appendingPathComponent("Packages"))
        guard index.status == 0 else { throw ToolError("apt-ftparchive packages", index) }
        try FileManager.default.moveItem(at: scratch.appendingPathComponent("Packages"), to: repository.appendingPathComponent("Packages"))

        progress("installing \(set.packages.count) packages with mmdebstrap")
        var environment = ProcessInfo.processInfo.environment
        environment["SOURCE_DATE_EPOCH"] = String(set.sourceDateEpoch)
        environment["TMPDIR"] = scratch.path
        environment["LC_ALL"] = "C"
        let hooks = [
            // Nothing of the build host, nothing secret or machine-unique.
            #"rm -f "$1/etc/resolv.conf" "$1/etc/hostname" "$1/var/lib/systemd/random-seed" "$1"/etc/ssh/ssh_host_*"#,
            #": > "$1/etc/machine-id""#,
            #"rm -f "$1/etc/apt/sources.list" "$1"/etc/apt/sources.list.d/*"#,
        ]
        var arguments = [
            "--mode=unshare", "--variant=apt", "--format=tar",
            "--include=\(set.requested.joined(separator: ","))",
            "--aptopt=APT::Install-Recommends \"false\"",
        ]
        arguments += hooks.map { "--customize-hook=\($0)" }
        arguments += [set.distribution.release, folder.appendingPathComponent("rootfs.tar").path,
                      "deb [trusted=yes] copy://\(repository.path) ./"]
        let result = try Command(executable: "/usr/bin/mmdebstrap", arguments: arguments, environment: environment)
            .run(timeout: 3600, outputFile: folder.appendingPathComponent("build.log"))
        guard result.status == 0 else { throw ToolError("mmdebstrap", result) }
    }
}

/// An external tool that failed: its command, status and the end of its output.
struct ToolError: Error, CustomStringConvertible {
    var description: String

    init(_ tool: String, _ result: Command.Result) {
        let tail = result.output.split(separator: "\n", omittingEmptySubsequences: false).suffix(25).joined(separator: "\n")
        description = result.timedOut
            ? "\(tool) took too long and was stopped\n\(tail)"
            : "\(tool) failed with status \(result.status):\n\(tail)"
    }
}
