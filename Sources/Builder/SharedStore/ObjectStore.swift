import Foundation

/// Named objects in a store other hosts share (a Ceph RADOS pool): what `SharedStoreClient`
/// keeps entries in. Writing an object replaces it whole, atomically.
public protocol ObjectStore: Sendable {
    /// How messages name it: `RADOS pool imagec-store of /etc/ceph/ceph.conf`.
    var description: String { get }
    /// The object's bytes, or `nil` when there is no such object.
    func read(_ name: String) throws -> Data?
    func write(_ name: String, _ data: Data) throws
    func exists(_ name: String) throws -> Bool
}
