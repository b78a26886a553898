import Foundation
import ImagecCore

/// The embedded pool: a directory of qcow2 files, for an admin machine with QEMU or libvirt
/// and no Ceph. A base image per digest (read-only once complete), clones as qcow2 overlays
/// backed by it; each image's metadata beside it in `<name>.json`.
///
/// Uploads go to `.tmp-…` names and are renamed when complete. A delta upload is an overlay
/// of the parent holding only the chunks that differ from it (written with `qemu-io`).
public struct LocalPool: ImagePool {
    public var directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    public var description: String { "local:\(directory.path)" }

    static let temporaryPrefix = ".tmp-"

    func file(_ name: String) -> URL { directory.appendingPathComponent("\(name).qcow2") }
    func metadataFile(_ name: String) -> URL { directory.appendingPathComponent("\(name).json") }

    public func images() throws -> [PoolImage] {
        try names().map(describe)
    }

    private func names() throws -> [String] {
        guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".qcow2") && !$0.hasPrefix(Self.temporaryPrefix) }
            .map { String($0.dropLast(6)) }.sorted()
    }

    public func leftovers() throws -> [String] {
        guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(Self.temporaryPrefix) }.sorted()
    }

    public func removeLeftover(_ name: String) throws {
        guard name.hasPrefix(Self.temporaryPrefix), !name.contains("/") else { throw PoolError("'\(name)' is not a temporary image") }
        try FileManager.default.removeItem(at: directory.appendingPathComponent(name))
    }

    func describe(_ name: String) throws -> PoolImage {
        let info = try Self.info(file(name))
        let metadata = (try? JSONDecoder().decode([String: String].self, from: Data(contentsOf: metadataFile(name)))) ?? [:]
        return PoolImage(name: name, size: info.size, used: Self.allocated(file(name)), parent: info.backing.map { String($0.dropLast(6)) },
                         metadata: metadata)
    }

    public func push(_ request: PushRequest, progress: @escaping (PushProgress) -> Void) throws -> PushResult {
        let started = Date()
        if let existing = try images().first(where: { $0.digest == request.digest && $0.isBase }) {
            return PushResult(image: existing, reused: true, bytesWritten: 0, seconds: Date().timeIntervalSince(started))
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temporary = directory.appendingPathComponent("\(Self.temporaryPrefix)\(request.name)-\(getpid()).qcow2")
        let scratch = directory.appendingPathComponent("\(Self.temporaryPrefix)\(request.name)-\(getpid()).scratch")
        defer {
            try? FileManager.default.removeItem(at: temporary)
            try? FileManager.default.removeItem(at: scratch)
        }
        let source = try RawImage(request.file)
        defer { source.close() }
        var written: UInt64
        if let parent = request.parent {
            written = try writeDelta(source, over: parent, into: temporary, scratch: scratch, progress: progress)
        } else {
            try Self.run("/usr/bin/qemu-img", ["convert", "-f", "raw", "-O", "qcow2", request.file.path, temporary.path])
            written = Self.allocated(temporary)
        }
        progress(PushProgress(done: source.size, total: source.size, written: written))
        var metadata = request.metadata
        metadata[PoolMetadata.digest] = request.digest
        metadata[PoolMetadata.role] = "base"
        metadata[PoolMetadata.depth] = String((request.parent?.metadata[PoolMetadata.depth].flatMap(Int.init) ?? -1) + 1)
        try finish(temporary, as: request.name, metadata: metadata, readOnly: true)
        return PushResult(image: try describe(request.name), reused: false, bytesWritten: written, seconds: Date().timeIntervalSince(started))
    }

    /// An overlay of `parent` holding the chunks of `source` that differ from it.
    private func writeDelta(_ source: RawImage, over parent: PoolImage, into overlay: URL, scratch: URL,
                            progress: (PushProgress) -> Void) throws -> UInt64 {
        // The parent's content as a sparse raw file, to compare with.
        let parentRaw = scratch.appendingPathComponent("parent.raw")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        try Self.run("/usr/bin/qemu-img", ["convert", "-O", "raw", file(parent.name).path, parentRaw.path])
        let old = try RawImage(parentRaw)
        defer { old.close() }
        try Self.run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", "-b", "\(parent.name).qcow2", "-F", "qcow2",
                                           overlay.path, String(source.size)])
        var commands: [String] = []
        var written: UInt64 = 0
        var chunkFiles = 0
        var lastReport = Date.distantPast
        func flush() throws {
            guard !commands.isEmpty else { return }
            try Self.run("/usr/bin/qemu-io", ["-f", "qcow2"] + commands.flatMap { ["-c", $0] } + [overlay.path])
            commands = []
            for index in 0..<chunkFiles { try? FileManager.default.removeItem(at: scratch.appendingPathComponent("chunk\(index)")) }
            chunkFiles = 0
        }
        try source.forEachChunk { offset, bytes in
            let length = Int(min(UInt64(RawImage.chunkSize), source.size - offset))
            let before: Data? = offset < old.size ? try {
                let data = try old.read(at: offset, length: Int(min(UInt64(length), old.size - offset)))
                return RawImage.isZero(data) ? nil : data
            }() : nil
            if let bytes, bytes != before {
                // Only the 64 KiB blocks (qcow2's clusters) that differ.
                var old = before ?? Data()
                if old.count < bytes.count { old += Data(count: bytes.count - old.count) }
                for range in RawImage.differences(bytes, old) {
                    let chunk = scratch.appendingPathComponent("chunk\(chunkFiles)")
                    try bytes.subdata(in: range).write(to: chunk)
                    chunkFiles += 1
                    commands.append("write -q -s \(chunk.path) \(offset + UInt64(range.lowerBound)) \(range.count)")
                    written += UInt64(range.count)
                }
            } else if bytes == nil, before != nil {
                commands.append("write -q -z \(offset) \(length)")
            }
            if chunkFiles >= 64 || commands.count >= 256 { try flush() }
            if Date().timeIntervalSince(lastReport) >= 1 {
                lastReport = Date()
                progress(PushProgress(done: offset + UInt64(length), total: source.size, written: written))
            }
        }
        try flush()
        return written
    }

    public func clone(_ base: PoolImage, as name: String, metadata: [String: String],
                      prepare: (DiskLocation) throws -> Void) throws -> PoolImage {
        let temporary = directory.appendingPathComponent("\(Self.temporaryPrefix)\(name)-\(getpid()).qcow2")
        defer { try? FileManager.default.removeItem(at: temporary) }
        try Self.run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", "-b", "\(base.name).qcow2", "-F", "qcow2", temporary.path])
        try prepare(.file(path: temporary.path, format: "qcow2"))
        var tags = metadata
        tags[PoolMetadata.role] = "host"
        tags[PoolMetadata.digest] = base.digest
        try finish(temporary, as: name, metadata: tags, readOnly: false)
        return try describe(name)
    }

    public func rename(_ name: String, to newName: String) throws {
        guard FileManager.default.fileExists(atPath: file(name).path) else { throw PoolError("\(description) has no image named '\(name)'") }
        guard !FileManager.default.fileExists(atPath: file(newName).path) else { throw PoolError("\(description) already has an image named '\(newName)'") }
        // Clones name their backing file: renaming it would orphan them.
        let children = try images().filter { $0.parent == name }.map(\.name)
        guard children.isEmpty else { throw PoolError("image '\(name)' has clones (\(children.joined(separator: ", "))): it cannot be renamed") }
        // The metadata first: an image found without its sidecar is described as having none.
        if FileManager.default.fileExists(atPath: metadataFile(name).path) {
            guard Foundation.rename(metadataFile(name).path, metadataFile(newName).path) == 0 else {
                throw PoolError("cannot rename \(metadataFile(name).path): \(String(cString: strerror(errno)))")
            }
        }
        guard Foundation.rename(file(name).path, file(newName).path) == 0 else {
            throw PoolError("cannot rename \(file(name).path): \(String(cString: strerror(errno)))")
        }
    }

    public func snapshotVolume(_ name: String, as snapshot: String) throws {
        guard FileManager.default.fileExists(atPath: file(name).path) else { throw PoolError("\(description) has no image named '\(name)'") }
        let existing = try Self.run("/usr/bin/qemu-img", ["snapshot", "-l", "-U", file(name).path])
        if existing.split(separator: "\n").contains(where: { $0.split(separator: " ").dropFirst().first.map(String.init) == snapshot }) { return }
        _ = try Self.run("/usr/bin/qemu-img", ["snapshot", "-c", snapshot, file(name).path])
    }

    public func location(of name: String) -> DiskLocation { .file(path: file(name).path, format: "qcow2") }

    public func remove(_ name: String) throws {
        let children = try images().filter { $0.parent == name }.map(\.name)
        guard children.isEmpty else { throw PoolError("image '\(name)' has clones (\(children.joined(separator: ", "))): remove them first") }
        try FileManager.default.removeItem(at: file(name))
        try? FileManager.default.removeItem(at: metadataFile(name))
        for suffix in Self.attachmentSuffixes { try? FileManager.default.removeItem(at: attachmentFile(suffix, of: name)) }
    }

    /// `<name>.<suffix>`, beside the image.
    func attachmentFile(_ suffix: String, of name: String) -> URL { directory.appendingPathComponent("\(name).\(suffix)") }

    static let attachmentSuffixes = ["sbom.spdx.json", "sbom.cdx.json"]

    public func attach(_ data: Data, as suffix: String, to name: String) throws {
        try data.write(to: attachmentFile(suffix, of: name), options: .atomic)
    }

    public func attachment(_ suffix: String, of name: String) throws -> Data? {
        FileManager.default.contents(atPath: attachmentFile(suffix, of: name).path)
    }

    public func export(_ name: String, to target: URL) throws {
        try? FileManager.default.removeItem(at: target)
        try Self.run("/usr/bin/qemu-img", ["convert", "-O", "raw", file(name).path, target.path])
    }

    /// Writes the metadata, then gives the image its final name.
    private func finish(_ temporary: URL, as name: String, metadata: [String: String], readOnly: Bool) throws {
        guard !FileManager.default.fileExists(atPath: file(name).path) else { throw PoolError("\(description) already has an image named '\(name)'") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(metadata).write(to: metadataFile(name), options: .atomic)
        if readOnly { chmod(temporary.path, 0o444) }
        guard Foundation.rename(temporary.path, file(name).path) == 0 else {
            throw PoolError("cannot rename \(temporary.path): \(String(cString: strerror(errno)))")
        }
    }

    /// Bytes a file occupies on disk.
    static func allocated(_ file: URL) -> UInt64 {
        var info = stat()
        return stat(file.path, &info) == 0 ? UInt64(info.st_blocks) * 512 : 0
    }

    /// A qcow2 file's virtual size and backing file.
    static func info(_ file: URL) throws -> (size: UInt64, backing: String?) {
        let output = try run("/usr/bin/qemu-img", ["info", "--output=json", "-U", file.path])
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] ?? [:]
        return ((json["virtual-size"] as? NSNumber)?.uint64Value ?? 0, json["backing-filename"] as? String)
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        try Command(executable: executable, arguments: arguments, package: "qemu-utils").output { result in
            PoolError("\(URL(fileURLWithPath: executable).lastPathComponent) failed: \(result.output)")
        }
    }
}
