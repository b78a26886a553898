import CLibraryLoader
import CRBD
import Foundation
import ImageDSL
import SharedStore

/// The objects of a RADOS pool (and namespace) through librados: where the lab's shared store
/// keeps its entries, on the Ceph cluster the RBD pool already uses.
public final class RADOSObjectStore: ObjectStore, @unchecked Sendable {
    private let connection: RBDConnection
    public let description: String

    /// - Parameter timeout: seconds to connect and for each operation (an unreachable cluster
    ///   fails in that time).
    public init(_ store: SharedStore, timeout: Int = 10) throws {
        connection = try RBDConnection(
            configuration: store.configuration, client: store.client, pool: store.pool, namespace: store.namespace, timeout: timeout)
        description = "the shared store (RADOS pool \(store.pool)\(store.namespace.map { "/\($0)" } ?? "") of \(store.configuration))"
    }

    /// The objects of the pool `connection` opened.
    init(connection: RBDConnection, description: String) {
        self.connection = connection
        self.description = description
    }

    public func read(_ name: String) throws -> Data? {
        var size: UInt64 = 0
        let found = rados_stat(connection.io, name, &size, nil)
        if found == -ENOENT { return nil }
        try RBDConnection.check(found, "cannot read object \(name) of \(description)")
        var data = Data(count: Int(size))
        var done = 0
        while done < Int(size) {
            let result = data.withUnsafeMutableBytes { bytes in
                rados_read(connection.io, name, bytes.baseAddress!.assumingMemoryBound(to: CChar.self) + done, Int(size) - done, UInt64(done))
            }
            try RBDConnection.check(result, "cannot read object \(name) of \(description)")
            guard result > 0 else { throw PoolError("object \(name) of \(description) ended early") }
            done += Int(result)
        }
        return data
    }

    public func write(_ name: String, _ data: Data) throws {
        let result = data.withUnsafeBytes { rados_write_full(connection.io, name, $0.baseAddress?.assumingMemoryBound(to: CChar.self), data.count) }
        try RBDConnection.check(result, "cannot write object \(name) to \(description)")
    }

    public func exists(_ name: String) throws -> Bool {
        var size: UInt64 = 0
        let result = rados_stat(connection.io, name, &size, nil)
        if result == -ENOENT { return false }
        try RBDConnection.check(result, "cannot look up object \(name) in \(description)")
        return true
    }
}
