import Foundation
import ImagecCore

/// The root tree configuration works on.
///
/// For a disk image, the package layer's tree is left as it is and every change goes into an
/// upper folder, as an overlay mount keeps them. The image's file system already holds the
/// layer's tree (the root base), so what must be replayed onto it is that folder alone
/// (`TreeDelta`). The tools that need the whole tree (systemctl, update-rc.d, locale-gen, the
/// checkers) run in a mount namespace of their own where overlayfs shows the two as one, at
/// `root`; nothing is mounted on the host, and the layer cannot be written through.
///
/// A system that is itself an initramfs is the whole tree: it is configured on a hard-link
/// copy of the layer instead (`upper` is then the copy, and there is no lower tree).
struct ConfiguredTree {
    /// The package layer's tree, shown below the changes; nil for a copy.
    let lower: URL?
    /// Where configuration writes: the overlay's upper folder, or the copy.
    let upper: URL
    /// Where commands see the whole tree: the overlay's mount point, or the copy.
    let root: URL
    private let work: URL?

    /// Changes kept above `lower`, in folders made in `scratch`.
    static func overlay(on lower: URL, in scratch: URL) throws -> ConfiguredTree {
        let tree = ConfiguredTree(lower: lower, upper: scratch.appendingPathComponent("changes"), root: scratch.appendingPathComponent("root"),
                                  work: scratch.appendingPathComponent("overlay-work"))
        for path in [lower.path, tree.upper.path, tree.work!.path, tree.root.path] where path.contains(where: { ",:\\".contains($0) }) {
            throw BuildEnvironmentError("\(path) holds a ',', ':' or '\\', which an overlay mount cannot name: use a store path without them")
        }
        for folder in [tree.upper, tree.work!, tree.root] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        }
        return tree
    }

    /// A hard-link copy of `lower` at `root`, configured in place.
    static func copy(of lower: URL, at root: URL, tools: Tools) throws -> ConfiguredTree {
        try tools.run("/bin/cp", ["-al", lower.path, root.path])
        return ConfiguredTree(lower: nil, upper: root, root: root, work: nil)
    }

    /// `executable` run where the whole tree is at `root`: in a private mount namespace with
    /// the overlay mounted there (`unshare`), or as it is for a copy.
    func command(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) -> Command {
        guard let lower, let work else { return Command(executable: executable, arguments: arguments, environment: environment) }
        // The overlay's behaviour is pinned, not left to the host's defaults: a renamed folder
        // or a changed mode is a full copy in the upper folder, never a redirect.
        let script = #"mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3,redirect_dir=off,metacopy=off,index=off" "$4" "#
            + #"&& shift 4 && exec "$@""#
        return Command(executable: "/usr/bin/unshare",
                       arguments: ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh",
                                   lower.path, upper.path, work.path, root.path, executable] + arguments,
                       environment: environment)
    }

    /// Where to write the image's absolute `path`, its folders made in the upper folder with
    /// the owner and mode the layer gives them. Links among its folders are followed inside
    /// the tree, as the image will follow them.
    func writable(_ path: String) throws -> URL {
        let resolved = try resolve(folderOf: path)
        var made = ""
        for name in resolved.split(separator: "/") {
            made += "/" + name
            let folder = upper.path + made
            var info = stat()
            if lstat(folder, &info) == 0 { continue }
            guard mkdir(folder, 0o755) == 0 else {
                throw BuildEnvironmentError("cannot make \(folder): \(String(cString: strerror(errno)))")
            }
            if let lower, lstat(lower.path + made, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
                chown(folder, info.st_uid, info.st_gid)
                chmod(folder, info.st_mode & 0o7777)
            }
        }
        return URL(fileURLWithPath: upper.path + resolved + "/" + (path.split(separator: "/").last.map(String.init) ?? ""))
    }

    /// Where to write a new file at the image's absolute `path`, in place of any entry there
    /// (the layer's is hidden, never edited).
    func replacing(_ path: String) throws -> URL {
        let url = try writable(path)
        try? FileManager.default.removeItem(at: url)
        return url
    }

    /// The file at the image's absolute `path` as the tree shows it (the change, else the
    /// layer's), or nil when there is none.
    func existing(_ path: String) -> URL? {
        var info = stat()
        if lstat(upper.path + path, &info) == 0 {
            return Self.isWhiteout(info) ? nil : URL(fileURLWithPath: upper.path + path)
        }
        guard let lower, lstat(lower.path + path, &info) == 0 else { return nil }
        return URL(fileURLWithPath: lower.path + path)
    }

    /// An overlay whiteout: what hides an entry of the layer that was removed.
    static func isWhiteout(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0 }

    /// The folder holding `path`, its links followed inside the tree (`/lib/x` → `/usr/lib`).
    private func resolve(folderOf path: String) throws -> String {
        var pending = path.split(separator: "/").dropLast().map(String.init)
        var resolved: [String] = []
        var links = 0
        while !pending.isEmpty {
            let name = pending.removeFirst()
            if name == "." || name.isEmpty { continue }
            if name == ".." { _ = resolved.popLast(); continue }
            let candidate = "/" + (resolved + [name]).joined(separator: "/")
            if let url = existing(candidate), let target = try? FileManager.default.destinationOfSymbolicLink(atPath: url.path) {
                links += 1
                guard links <= 40 else { throw BuildEnvironmentError("\(path): too many levels of links in the image") }
                if target.hasPrefix("/") { resolved = [] }
                pending = target.split(separator: "/").map(String.init) + pending
                continue
            }
            resolved.append(name)
        }
        return resolved.isEmpty ? "" : "/" + resolved.joined(separator: "/")
    }
}
