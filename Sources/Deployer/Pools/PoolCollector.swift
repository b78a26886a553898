import Foundation

/// What `imagec pool gc` removes: all but the last `keep` base images of each system, never
/// an image a host's disk is a clone of (what it runs, its candidate, its rollback target),
/// nor any image another kept image is a clone of.
public enum PoolCollector {
    /// The images to remove, clones before the images they are clones of.
    public static func garbage(in images: [PoolImage], keep: Int) -> [PoolImage] {
        let byName = Dictionary(images.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var kept = Set<String>()
        func keepWithAncestors(_ image: PoolImage) {
            var current: PoolImage? = image
            while let image = current, kept.insert(image.name).inserted {
                current = image.parent.flatMap { byName[$0] }
            }
        }
        // Hosts' disks and what they stand on.
        for image in images where !image.isBase { keepWithAncestors(image) }
        // The latest generations of each system.
        let bases = images.filter(\.isBase)
        for system in Set(bases.compactMap(\.system)) {
            let generations = bases.filter { $0.system == system }
                .sorted { ($0.metadata[PoolMetadata.created] ?? "", $0.name) > ($1.metadata[PoolMetadata.created] ?? "", $1.name) }
            generations.prefix(keep).forEach(keepWithAncestors)
        }
        func depth(_ image: PoolImage) -> Int {
            var depth = 0, current = image
            while let parent = current.parent.flatMap({ byName[$0] }), depth < images.count { depth += 1; current = parent }
            return depth
        }
        return images.filter { !kept.contains($0.name) }.sorted { (depth($0), $0.name) > (depth($1), $1.name) }
    }

    /// Temporary names left by pushes of this machine whose process is gone
    /// (`imagec-tmp_…_<host>_<pid>` in RBD, `.tmp-…-<pid>.qcow2` locally); a push still
    /// running, or one of another machine, is left alone.
    public static func abandoned(_ leftovers: [String]) -> [String] {
        let host = ProcessInfo.processInfo.hostName
        return leftovers.filter { name in
            let pid: Int32?
            if name.hasPrefix(LocalPool.temporaryPrefix) {
                let stem = name.dropFirst(LocalPool.temporaryPrefix.count).prefix { $0 != "." }
                pid = stem.split(separator: "-").last.flatMap { Int32($0) }
            } else if name.hasPrefix(RBDPool.temporaryPrefix), name.contains("_\(host)_") {
                pid = name.split(separator: "_").last.flatMap { Int32($0) }
            } else {
                pid = nil
            }
            guard let pid else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }
    }
}
