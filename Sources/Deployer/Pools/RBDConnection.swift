import CLibraryLoader
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
        if let error = imagec_load_ceph() {
            throw PoolError("cannot load Ceph's client libraries: \(String(cString: error)) (install librbd1)")
        }
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
    /// Set once the cluster stopped answering: closing then waits for it once per request the
    /// image owes it (unwatch, lock release: minutes), so it is closed on a thread of its own,
    /// and the error reaches the user within the client's time limit.
    var closesInBackground = false

    init(_ connection: RBDConnection, name: String, snapshot: String? = nil, readOnly: Bool = false) throws {
        self.name = name
        self.connection = connection
        let result = readOnly ? rbd_open_read_only(connection.io, name, &handle, snapshot) : rbd_open(connection.io, name, &handle, snapshot)
        try RBDConnection.check(result, "cannot open image '\(name)'")
    }

    deinit {
        guard let open = handle else { return }
        guard closesInBackground else { rbd_close(open); return }
        nonisolated(unsafe) let handle = open
        let connection = connection
        Thread.detachNewThread { rbd_close(handle); withExtendedLifetime(connection) {} }
    }

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

    /// Breaks the image's exclusive lock, held by a writer that is gone (killed, or cut off
    /// from the cluster): the owner is blocklisted, its lock and watch dropped at once. Without
    /// this, removing the image first asks the owner to release it and waits 30 s for an answer.
    func breakLock() throws {
        var mode = RBD_LOCK_MODE_EXCLUSIVE
        var owners = [UnsafeMutablePointer<CChar>?](repeating: nil, count: 8)
        var count = owners.count
        let result = rbd_lock_get_owners(handle, &mode, &owners, &count)
        if result == -ENOENT { return }  // nobody holds it
        try RBDConnection.check(result, "cannot read the lock owners of '\(name)'")
        defer { rbd_lock_get_owners_cleanup(&owners, count) }
        for owner in owners.prefix(count).compactMap({ $0 }) {
            try RBDConnection.check(rbd_lock_break(handle, mode, owner), "cannot break the lock of '\(name)' held by \(String(cString: owner))")
        }
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

    /// Writes with at most `limit` requests in flight (librbd's asynchronous I/O), each given
    /// `timeout` seconds to finish.
    final class Writer {
        /// A write librbd has not finished: the buffer it reads from until then, and the
        /// semaphore its completion signals.
        private struct Pending {
            let completion: rbd_completion_t?
            let buffer: UnsafeMutableRawBufferPointer
            let offset: UInt64
            let done: DispatchSemaphore
            let sent: Date
        }

        private let image: RBDImage
        private let limit: Int
        private let timeout: Double
        private var inFlight: [Pending] = []
        /// Set when a write timed out: the cluster stopped answering.
        private var stalled = false

        init(_ image: RBDImage, limit: Int, timeout: Int) {
            self.image = image
            self.limit = limit
            self.timeout = Double(timeout)
        }

        /// Queues a write of `bytes`, or of zeros over `zeros` bytes when `bytes` is nil.
        func write(_ bytes: Data?, at offset: UInt64, zeros: Int = 0) throws {
            if inFlight.count >= limit { try waitOldest() }
            let done = DispatchSemaphore(value: 0)
            var completion: rbd_completion_t?
            // Unretained: the semaphore lives in `inFlight` until the write has completed.
            let signal: rbd_callback_t = { _, semaphore in Unmanaged<DispatchSemaphore>.fromOpaque(semaphore!).takeUnretainedValue().signal() }
            try RBDConnection.check(rbd_aio_create_completion(Unmanaged.passUnretained(done).toOpaque(), signal, &completion), "cannot start a write")
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes?.count ?? 0), alignment: 4096)
            let started: Int32 = if let bytes {
                { bytes.copyBytes(to: buffer); return rbd_aio_write(image.handle, offset, bytes.count, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), completion) }()
            } else {
                rbd_aio_write_zeroes(image.handle, offset, zeros, completion, 0, 0)
            }
            if started < 0 { rbd_aio_release(completion); buffer.deallocate() }
            try RBDConnection.check(started, "cannot write '\(image.name)' at \(offset)")
            inFlight.append(Pending(completion: completion, buffer: buffer, offset: offset, done: done, sent: Date()))
        }

        /// Writes still in flight when an upload fails: waited for and released. On a thread of
        /// their own when the cluster stopped answering: they may wait the client's time limit
        /// out more than once (librbd first takes the image's lock, then writes).
        deinit {
            nonisolated(unsafe) let pending = inFlight
            let release: @Sendable () -> Void = {
                for write in pending {
                    rbd_aio_wait_for_complete(write.completion)
                    rbd_aio_release(write.completion)
                    write.buffer.deallocate()
                }
            }
            if stalled { Thread.detachNewThread(release) } else { release() }
        }

        /// Waits for every queued write; throws the first failure.
        func finish() throws {
            var failure: Error?
            while !inFlight.isEmpty, !stalled {
                do { try waitOldest() } catch { failure = failure ?? error }
            }
            if let failure { throw failure }
            try RBDConnection.check(rbd_flush(image.handle), "cannot flush '\(image.name)'")
        }

        private func waitOldest() throws {
            let write = inFlight.removeFirst()
            if write.done.wait(timeout: .now() + max(0, timeout - Date().timeIntervalSince(write.sent))) == .timedOut {
                inFlight.insert(write, at: 0)  // released once it completes
                stalled = true
                try RBDConnection.check(-ETIMEDOUT, "cannot write '\(image.name)' at \(write.offset)")
            }
            rbd_aio_wait_for_complete(write.completion)
            let result = rbd_aio_get_return_value(write.completion)
            rbd_aio_release(write.completion)
            write.buffer.deallocate()
            do {
                try RBDConnection.check(Int32(truncatingIfNeeded: min(0, result)), "cannot write '\(image.name)' at \(write.offset)")
            } catch let error as PoolError where error.timedOut {
                stalled = true
                throw error
            }
        }
    }
}
