import CRBD
import Foundation

/// A pool of images on Ceph RBD, through librbd (never the `rbd` command).
///
/// A base image is uploaded once per digest: created (or cloned from a parent's snapshot)
/// under a temporary name, written sparsely with bounded asynchronous I/O, tagged with
/// ``PoolMetadata``, snapshotted (`imagec`, protected) and renamed to its final name.
public struct RBDPool: ImagePool {
    public var configuration: String
    public var client: String
    public var pool: String
    public var namespace: String?
    /// Seconds for connecting and for each cluster operation.
    public var timeout: Int
    /// Writes in flight at once.
    public var concurrency: Int

    /// The snapshot clones are made from.
    static let snapshot = "imagec"
    /// The prefix of names under which uploads are written.
    static let temporaryPrefix = "imagec-tmp_"

    public init(configuration: String = "/etc/ceph/ceph.conf", client: String = "admin", pool: String, namespace: String? = nil,
                timeout: Int = 30, concurrency: Int = 16) {
        self.configuration = configuration
        self.client = client
        self.pool = pool
        self.namespace = namespace
        self.timeout = timeout
        self.concurrency = concurrency
    }

    public var description: String {
        "rbd:\(pool)\(namespace.map { "/\($0)" } ?? "") (client.\(client), \(configuration))"
    }

    func connect() throws -> RBDConnection {
        try RBDConnection(configuration: configuration, client: client, pool: pool, namespace: namespace, timeout: timeout)
    }

    public func imageNames() throws -> Set<String> {
        Set(try connect().imageNames().filter { !$0.hasPrefix(Self.temporaryPrefix) })
    }

    public func images() throws -> [PoolImage] {
        let connection = try connect()
        return try connection.imageNames().filter { !$0.hasPrefix(Self.temporaryPrefix) }.sorted().map { name in
            try Self.describe(RBDImage(connection, name: name, readOnly: true), connection: connection)
        }
    }

    public func leftovers() throws -> [String] {
        try connect().imageNames().filter { $0.hasPrefix(Self.temporaryPrefix) }.sorted()
    }

    public func removeLeftover(_ name: String) throws {
        guard name.hasPrefix(Self.temporaryPrefix) else { throw PoolError("'\(name)' is not a temporary image") }
        try RBDImage(connect(), name: name).breakLock()
        try remove(name)
    }

    static func describe(_ image: RBDImage, connection: RBDConnection) throws -> PoolImage {
        let used = try image.allocatedChunks(chunkSize: UInt64(RawImage.chunkSize), includingParent: false)
        return PoolImage(name: image.name, size: image.size, used: UInt64(used.count) * UInt64(RawImage.chunkSize),
                         parent: image.parent, metadata: try image.metadata())
    }

    public func push(_ request: PushRequest, progress: @escaping (PushProgress) -> Void) throws -> PushResult {
        let started = Date()
        let connection = try connect()
        // A digest already in the pool is not uploaded again.
        for name in try connection.imageNames() where !name.hasPrefix(Self.temporaryPrefix) {
            let image = try RBDImage(connection, name: name, readOnly: true)
            let metadata = try image.metadata()
            if metadata[PoolMetadata.digest] == request.digest, metadata[PoolMetadata.role] == "base" {
                return PushResult(image: try Self.describe(image, connection: connection), reused: true, bytesWritten: 0,
                                  seconds: Date().timeIntervalSince(started))
            }
        }
        let source = try RawImage(request.file)
        defer { source.close() }
        let temporary = "\(Self.temporaryPrefix)\(request.name)_\(ProcessInfo.processInfo.hostName)_\(getpid())"
        if let parent = request.parent {
            try connection.clone(parent.name, snapshot: Self.snapshot, as: temporary)
        } else {
            try connection.create(temporary, size: source.size)
        }
        // The temporary image goes if anything fails, unless the cluster stopped answering
        // (removing it would wait as long again): then, as after SIGKILL, `pool gc` removes it.
        do {
            return try write(source, request, into: temporary, connection: connection, started: started, progress: progress)
        } catch {
            if (error as? PoolError)?.timedOut != true { try? connection.remove(temporary) }
            throw error
        }
    }

    private func write(
        _ source: RawImage, _ request: PushRequest, into temporary: String, connection: RBDConnection, started: Date,
        progress: @escaping (PushProgress) -> Void
    ) throws -> PushResult {
        let image = try RBDImage(connection, name: temporary)
        do {
            return try upload(source, request, into: image, connection: connection, started: started, progress: progress)
        } catch let error as PoolError where error.timedOut {
            image.closesInBackground = true
            throw error
        }
    }

    private func upload(
        _ source: RawImage, _ request: PushRequest, into image: RBDImage, connection: RBDConnection, started: Date,
        progress: @escaping (PushProgress) -> Void
    ) throws -> PushResult {
        let temporary = image.name
        if request.parent != nil, image.size != source.size {
            try RBDConnection.check(rbd_resize(image.handle, source.size), "cannot resize '\(temporary)'")
        }
        // What the clone already holds (its parent's data): only differing chunks are written.
        let inherited = request.parent == nil ? [] : try image.allocatedChunks(chunkSize: UInt64(RawImage.chunkSize), includingParent: true)
        let writer = RBDImage.Writer(image, limit: concurrency, timeout: timeout)
        var written: UInt64 = 0
        var lastReport = Date.distantPast
        try source.forEachChunk { offset, bytes in
            let length = Int(min(UInt64(RawImage.chunkSize), source.size - offset))
            if inherited.contains(offset) {
                let old = try image.read(at: offset, length: length)
                if let bytes {
                    // Only the 64 KiB blocks that differ: the OSD copies the rest of the object up.
                    for range in RawImage.differences(bytes, old) {
                        try writer.write(bytes.subdata(in: range), at: offset + UInt64(range.lowerBound))
                        written += UInt64(range.count)
                    }
                } else if !RawImage.isZero(old) {
                    try writer.write(nil, at: offset, zeros: length)
                }
            } else if let bytes {
                // A fresh area reads as zeros: its zero blocks need no writing either.
                for range in RawImage.differences(bytes, Data(count: bytes.count)) {
                    try writer.write(bytes.subdata(in: range), at: offset + UInt64(range.lowerBound))
                    written += UInt64(range.count)
                }
            }
            if Date().timeIntervalSince(lastReport) >= 1 {
                lastReport = Date()
                progress(PushProgress(done: offset + UInt64(length), total: source.size, written: written))
            }
        }
        try writer.finish()
        progress(PushProgress(done: source.size, total: source.size, written: written))

        var metadata = request.metadata
        metadata[PoolMetadata.digest] = request.digest
        metadata[PoolMetadata.role] = "base"
        metadata[PoolMetadata.depth] = String((request.parent?.metadata[PoolMetadata.depth].flatMap(Int.init) ?? -1) + 1)
        try image.setMetadata(metadata)
        try image.snapshot(Self.snapshot, protect: true)
        try connection.rename(temporary, to: request.name)
        let final = try RBDImage(connection, name: request.name, readOnly: true)
        return PushResult(image: try Self.describe(final, connection: connection), reused: false, bytesWritten: written,
                          seconds: Date().timeIntervalSince(started))
    }

    public func clone(_ base: PoolImage, as name: String, metadata: [String: String],
                      prepare: (DiskLocation) throws -> Void) throws -> PoolImage {
        let connection = try connect()
        let temporary = "\(Self.temporaryPrefix)\(name)_\(ProcessInfo.processInfo.hostName)_\(getpid())"
        try connection.clone(base.name, snapshot: Self.snapshot, as: temporary)
        do {
            do {
                let image = try RBDImage(connection, name: temporary)
                var tags = metadata
                tags[PoolMetadata.role] = "host"
                tags[PoolMetadata.digest] = base.digest
                try image.setMetadata(tags)
            }
            try prepare(location(of: temporary))
            try connection.rename(temporary, to: name)
        } catch {
            try? connection.remove(temporary)
            throw error
        }
        return try Self.describe(RBDImage(connection, name: name, readOnly: true), connection: connection)
    }

    public func rename(_ name: String, to newName: String) throws {
        let connection = try connect()
        guard !(try connection.imageNames().contains(newName)) else { throw PoolError("\(description) already has an image named '\(newName)'") }
        try connection.rename(name, to: newName)
    }

    public func snapshotVolume(_ name: String, as snapshot: String) throws {
        let image = try RBDImage(try connect(), name: name)
        if !image.hasSnapshot(snapshot) { try image.snapshot(snapshot, protect: false) }
    }

    public func location(of name: String) -> DiskLocation {
        .rbd(pool: pool, namespace: namespace, image: name, client: client, configuration: configuration)
    }

    public func export(_ name: String, to file: URL) throws {
        let image = try RBDImage(try connect(), name: name, readOnly: true)
        let size = image.size
        let chunk = UInt64(RawImage.chunkSize)
        FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        for offset in try image.allocatedChunks(chunkSize: chunk, includingParent: true).sorted() where offset < size {
            let bytes = try image.read(at: offset, length: Int(min(chunk, size - offset)))
            if RawImage.isZero(bytes) { continue }
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: bytes)
        }
        try handle.truncate(atOffset: size)
    }

    public func remove(_ name: String) throws {
        let connection = try connect()
        do {
            let image = try RBDImage(connection, name: name)
            try image.removeSnapshot(Self.snapshot)
        }
        try connection.remove(name)
        for suffix in LocalPool.attachmentSuffixes {
            let object = Self.attachmentObject(suffix, of: name)
            let removed = rados_remove(connection.io, object)
            if removed != 0 && removed != -ENOENT { try RBDConnection.check(removed, "cannot remove object \(object)") }
        }
    }

    /// The RADOS object, in the pool, that keeps what is attached to an image.
    static func attachmentObject(_ suffix: String, of name: String) -> String { "imagec.attachment.\(name).\(suffix)" }

    public func attach(_ data: Data, as suffix: String, to name: String) throws {
        try RADOSObjectStore(connection: try connect(), description: description).write(Self.attachmentObject(suffix, of: name), data)
    }

    public func attachment(_ suffix: String, of name: String) throws -> Data? {
        try RADOSObjectStore(connection: try connect(), description: description).read(Self.attachmentObject(suffix, of: name))
    }
}
