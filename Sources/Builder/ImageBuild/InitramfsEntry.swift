import Foundation
import ImagecCore

/// The initramfs a system's kernel boots with, as a store entry of its own: made by the
/// release's own `mkinitramfs` from the package layer that last changed what it is made of
/// (`PackageLayer.initramfsLayer`), usually the bottom one, which every system shares.
///
/// Being apart from the layers, it is made on the second core while the layers above are
/// installed, and once for every system whose layers above do not touch it. The root base
/// writes it into `/boot` (`RootBase`).
struct InitramfsEntry {
    /// Changes whenever the recipe below changes.
    static let recipeVersion = 1

    /// The entry name of the package layer it is made from.
    let layer: String
    /// The layer's date: the archive's files and the file itself get it.
    let sourceDateEpoch: Int

    var entryName: String {
        let identity = "imagec initramfs \(Self.recipeVersion)\n\(layer)\n\(sourceDateEpoch)\n"
        return "\(CanonicalJSON.sha256(Data(identity.utf8)))-initramfs"
    }

    /// The files of an entry: `initrd.img-<kernel version>` for each kernel of the layer.
    static func images(in entry: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: entry.path).sorted()
            .filter { $0.hasPrefix("initrd.img-") }.map { entry.appendingPathComponent($0) }
    }

    /// Makes the entry's files in `folder` from the layer's `tree`: one initramfs per kernel,
    /// `build.log` and `inputs`. The tree is mounted read-only: nothing is written into it.
    /// `releaseHookFunctions` leaves out imagec's (`InitramfsHookFunctions`), to compare.
    func make(in folder: URL, from tree: URL, scratch: URL, releaseHookFunctions: Bool = false) throws {
        let kernels = try FileManager.default.contentsOfDirectory(atPath: tree.appendingPathComponent("boot").path).sorted()
            .filter { $0.hasPrefix("vmlinuz-") }.map { String($0.dropFirst("vmlinuz-".count)) }
        guard !kernels.isEmpty else { throw BuildEnvironmentError("the package layer \(layer) has no kernel in /boot") }
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let tools = Tools(environment: [:], scratch: scratch)
        let hookFunctions = releaseHookFunctions ? [] : try InitramfsHookFunctions.sandboxArguments(for: tree, in: scratch)
        var log = hookFunctions.isEmpty ? "initramfs-tools' own hook functions\n" : "imagec's hook functions over initramfs-tools' own\n"
        for kernel in kernels {
            // The compression's fastest level, as the layers always used (3 s less than the
            // default for a 12 % larger file); the machine's own later updates use the default.
            log += try tools.output("/usr/bin/bwrap", [
                "--die-with-parent", "--unshare-all", "--ro-bind", tree.path, "/", "--dev", "/dev", "--proc", "/proc",
                "--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/run", "--bind", folder.path, "/tmp/out",
            ] + hookFunctions + [
                "--clearenv", "--setenv", "PATH", "/usr/sbin:/usr/bin:/sbin:/bin", "--setenv", "LC_ALL", "C",
                "--setenv", "SOURCE_DATE_EPOCH", String(sourceDateEpoch), "--setenv", "COMPRESSLEVEL", "1",
                "/usr/sbin/mkinitramfs", "-o", "/tmp/out/initrd.img-\(kernel)", kernel,
            ])
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: TimeInterval(sourceDateEpoch)),
                                                   .posixPermissions: 0o644],
                                                  ofItemAtPath: folder.appendingPathComponent("initrd.img-\(kernel)").path)
        }
        try log.write(to: folder.appendingPathComponent("build.log"), atomically: true, encoding: .utf8)
        try (layer + "\n").write(to: folder.appendingPathComponent("inputs"), atomically: true, encoding: .utf8)
    }
}
