import CRBD
import Foundation

/// A connection to one pool (and namespace) of a Ceph cluster through librados, with client
/// time limits so an unreachable cluster fails in bounded time instead of waiting minutes.
final class RBDConnection: @unchecked Sendable {
    private var cluster: rados_t?
    private(set) var io: rados_ioctx_t?
    let pool: String

    /// - Parameter timeout: seconds for authenticating and for each monitor or OSD operation.
    init(configuration: String, client: String, pool: String, namespace: String?, timeout: Int) throws {
        self.pool = pool
        let name = client.hasPrefix("client.") ? client : "client.\(client)"
        try Self.check(rados_create2(&cluster, "ceph", name, 0), "cannot create a Ceph client")
        do {
            guard FileManager.default.isReadableFile(atPath: configuration) else {
                throw PoolError("cannot read the Ceph configuration \(configuration)")
            }
            try Self.check(rados_conf_read_file(cluster, configuration), "cannot read the Ceph configuration \(configuration)")
            for option in ["client_mount_timeout", "rados_mon_op_timeout", "rados_osd_op_timeout"] {
                try Self.check(rados_conf_set(cluster, option, String(timeout)), "cannot set \(option)")
            }
            let connected = rados_connect(cluster)
            guard connected == 0 else {
                let reason = switch -connected {
                case ETIMEDOUT: "no answer from the monitors within \(timeout) s (are they running and reachable?)"
                case EACCES, EPERM: "access denied to \(name) (check its key in the keyring)"
                case ENOENT: "no key found for \(name) (check the keyring named in \(configuration))"
                default: String(cString: strerror(-connected))
                }
                throw PoolError("cannot connect to the Ceph cluster of \(configuration) as \(name): \(reason)")
            }
            let opened = rados_ioctx_create(cluster, pool, &io)
            guard opened == 0 else {
                throw PoolError(opened == -ENOENT ? "the Ceph cluster of \(configuration) has no pool '\(pool)'"
                    : "cannot open pool '\(pool)': \(String(cString: strerror(-opened)))")
            }
            if let namespace { rados_ioctx_set_namespace(io, namespace) }
        } catch {
            close()  // deinit runs too (every property is set): close() leaves nothing for it
            throw error
        }
    }

    deinit { close() }

    private func close() {
        if let io { rados_ioctx_destroy(io) }
        if let cluster { rados_shutdown(cluster) }
        io = nil
        cluster = nil
    }

    /// The names of every image in the pool (and namespace).
    func imageNames() throws -> [String] {
        var count = 64
        while true {
            var specs = [rbd_image_spec_t](repeating: rbd_image_spec_t(), count: count)
            let result = rbd_list2(io, &specs, &count)
            if result == -ERANGE { continue }  // `count` now says how many there are
            try Self.check(result, "cannot list the images of pool '\(pool)'")
            defer { rbd_image_spec_list_cleanup(&specs, count) }
            return specs.prefix(count).map { String(cString: $0.name) }
        }
    }

    func create(_ name: String, size: UInt64) throws {
        var options: rbd_image_options_t?
        rbd_image_options_create(&options)
        defer { rbd_image_options_destroy(options) }
        // Layering: clones of its snapshot. The defaults of the cluster give the rest.
        try Self.check(rbd_create4(io, name, size, options), "cannot create image '\(name)' in pool '\(pool)'")
    }

    func clone(_ parent: String, snapshot: String, as name: String) throws {
        var options: rbd_image_options_t?
        rbd_image_options_create(&options)
        defer { rbd_image_options_destroy(options) }
        try Self.check(rbd_clone3(io, parent, snapshot, io, name, options), "cannot clone '\(parent)@\(snapshot)' as '\(name)'")
    }

    func rename(_ name: String, to newName: String) throws {
        try Self.check(rbd_rename(io, name, newName), "cannot rename image '\(name)' to '\(newName)'")
    }

    func remove(_ name: String) throws {
        let result = rbd_remove(io, name)
        if result == -EBUSY {
            throw PoolError("cannot remove image '\(name)': a client has it open (a machine, or a push that failed less than 30 s ago)")
        }
        try Self.check(result, "cannot remove image '\(name)'")
    }

    /// Throws `PoolError("\(what): \(reason)")` for a negative librados/librbd result.
    static func check(_ result: Int32, _ what: @autoclosure () -> String) throws {
        guard result < 0 else { return }
        let timedOut = -result == ETIMEDOUT
        let reason = timedOut ? "timed out (is every OSD up?)" : String(cString: strerror(-result))
        throw PoolError("\(what()): \(reason)", timedOut: timedOut)
    }
}

/// An open RBD image.
final class RBDImage {
    private(set) var handle: rbd_image_t?
    let name: String
    /// Kept open as long as the image is.
    private let connection: RBDConnection

    init(_ connection: RBDConnection, name: String, snapshot: String? = nil, readOnly: Bool = false) throws {
        self.name = name
        self.connection = connection
        let result = readOnly ? rbd_open_read_only(connection.io, name, &handle, snapshot) : rbd_open(connection.io, name, &handle, snapshot)
        try RBDConnection.check(result, "cannot open image '\(name)'")
    }

    deinit { if let handle { rbd_close(handle) } }

    var size: UInt64 {
        var info = rbd_image_info_t()
        rbd_stat(handle, &info, MemoryLayout<rbd_image_info_t>.size)
        return info.size
    }

    /// The name of the image this one is a clone of.
    var parent: String? {
        var pool = [CChar](repeating: 0, count: 256), image = [CChar](repeating: 0, count: 256), snapshot = [CChar](repeating: 0, count: 256)
        guard rbd_get_parent_info(handle, &pool, pool.count, &image, image.count, &snapshot, snapshot.count) == 0 else { return nil }
        return String(cString: image)
    }

    func metadata() throws -> [String: String] {
        var keysLength = 4096, valuesLength = 16384
        while true {
            var keys = [CChar](repeating: 0, count: keysLength), values = [CChar](repeating: 0, count: valuesLength)
            let result = rbd_metadata_list(handle, "", 0, &keys, &keysLength, &values, &valuesLength)
            if result == -ERANGE { continue }
            try RBDConnection.check(result, "cannot read the metadata of '\(name)'")
            // Both are runs of NUL-terminated strings.
            func strings(_ buffer: [CChar], _ length: Int) -> [String] {
                buffer.prefix(length).split(separator: 0, omittingEmptySubsequences: false).dropLast()
                    .map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            }
            return Dictionary(zip(strings(keys, keysLength), strings(values, valuesLength)), uniquingKeysWith: { a, _ in a })
        }
    }

    func setMetadata(_ metadata: [String: String]) throws {
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            try RBDConnection.check(rbd_metadata_set(handle, key, value), "cannot set metadata \(key) on '\(name)'")
        }
    }

    func snapshot(_ snapshot: String, protect: Bool) throws {
        try RBDConnection.check(rbd_snap_create(handle, snapshot), "cannot snapshot '\(name)'")
        if protect { try RBDConnection.check(rbd_snap_protect(handle, snapshot), "cannot protect '\(name)@\(snapshot)'") }
    }

    func hasSnapshot(_ snapshot: String) -> Bool {
        var protected: Int32 = 0
        return rbd_snap_is_protected(handle, snapshot, &protected) == 0
    }

    /// Unprotects and removes a snapshot, if there is one.
    func removeSnapshot(_ snapshot: String) throws {
        var protected: Int32 = 0
        guard rbd_snap_is_protected(handle, snapshot, &protected) == 0 else { return }
        if protected != 0 { try RBDConnection.check(rbd_snap_unprotect(handle, snapshot), "cannot unprotect '\(name)@\(snapshot)' (has it clones?)") }
        try RBDConnection.check(rbd_snap_remove(handle, snapshot), "cannot remove '\(name)@\(snapshot)'")
    }

    func read(at offset: UInt64, length: Int) throws -> Data {
        var bytes = Data(count: length)
        let count = bytes.withUnsafeMutableBytes { rbd_read(handle, offset, length, $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
        guard count == length else { throw PoolError("cannot read '\(name)' at \(offset): \(count < 0 ? String(cString: strerror(Int32(-count))) : "short read")") }
        return bytes
    }

    /// Offsets of the chunks of `chunkSize` bytes that hold data: in this image alone, or in it
    /// or its parent.
    func allocatedChunks(chunkSize: UInt64, includingParent: Bool) throws -> Set<UInt64> {
        final class Box { var chunks = Set<UInt64>(); let size: UInt64; init(_ size: UInt64) { self.size = size } }
        let box = Box(chunkSize)
        let context = Unmanaged.passRetained(box)
        defer { context.release() }
        let result = rbd_diff_iterate2(handle, nil, 0, size, includingParent ? 1 : 0, 1, { offset, length, exists, argument in
            let box = Unmanaged<Box>.fromOpaque(argument!).takeUnretainedValue()
            guard exists != 0 else { return 0 }
            var chunk = offset / box.size * box.size
            while chunk < offset + UInt64(length) { box.chunks.insert(chunk); chunk += box.size }
            return 0
        }, context.toOpaque())
        try RBDConnection.check(result, "cannot map the data of '\(name)'")
        return box.chunks
    }

    /// Writes with at most `limit` requests in flight (librbd's asynchronous I/O).
    final class Writer {
        private let image: RBDImage
        private let limit: Int
        /// Each write's completion and the buffer librbd reads from until it completes.
        private var inFlight: [(completion: rbd_completion_t?, buffer: UnsafeMutableRawBufferPointer, offset: UInt64)] = []

        init(_ image: RBDImage, limit: Int) {
            self.image = image
            self.limit = limit
        }

        /// Queues a write of `bytes`, or of zeros over `zeros` bytes when `bytes` is nil.
        func write(_ bytes: Data?, at offset: UInt64, zeros: Int = 0) throws {
            if inFlight.count >= limit { try waitOldest() }
            var completion: rbd_completion_t?
            try RBDConnection.check(rbd_aio_create_completion(nil, nil, &completion), "cannot start a write")
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes?.count ?? 0), alignment: 4096)
            let started: Int32 = if let bytes {
                { bytes.copyBytes(to: buffer); return rbd_aio_write(image.handle, offset, bytes.count, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), completion) }()
            } else {
                rbd_aio_write_zeroes(image.handle, offset, zeros, completion, 0, 0)
            }
            if started < 0 { rbd_aio_release(completion); buffer.deallocate() }
            try RBDConnection.check(started, "cannot write '\(image.name)' at \(offset)")
            inFlight.append((completion, buffer, offset))
        }

        /// Writes still in flight when an upload fails: waited for and released.
        deinit {
            for (completion, buffer, _) in inFlight {
                rbd_aio_wait_for_complete(completion)
                rbd_aio_release(completion)
                buffer.deallocate()
            }
        }

        /// Waits for every queued write; throws the first failure.
        func finish() throws {
            var failure: Error?
            while !inFlight.isEmpty {
                do { try waitOldest() } catch { failure = failure ?? error }
            }
            if let failure { throw failure }
            try RBDConnection.check(rbd_flush(image.handle), "cannot flush '\(image.name)'")
        }

        private func waitOldest() throws {
            let (completion, buffer, offset) = inFlight.removeFirst()
            rbd_aio_wait_for_complete(completion)
            let result = rbd_aio_get_return_value(completion)
            rbd_aio_release(completion)
            buffer.deallocate()
            try RBDConnection.check(Int32(truncatingIfNeeded: min(0, result)), "cannot write '\(image.name)' at \(offset)")
        }
    }
}
