import Foundation
import ImagecCore

/// Every identifier in an image — disk and partition GUIDs, file system UUIDs, the FAT serial —
/// derived from the build's digest, so they are the same on every build of the same inputs and
/// differ between systems.
struct ImageIdentifiers {
    let digest: String

    /// A UUID (version 4 layout) derived from the digest and a purpose such as `root`.
    func uuid(_ purpose: String) -> String {
        var bytes = Array(CanonicalJSON.sha256(Data("\(digest) \(purpose)".utf8)).utf8.prefix(32))
        bytes[12] = UInt8(ascii: "4")
        bytes[16] = UInt8(ascii: "8")
        let hex = String(decoding: bytes, as: UTF8.self)
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }

    var diskGUID: String { uuid("disk").uppercased() }
    func partitionGUID(_ name: String) -> String { uuid("partition \(name)").uppercased() }
    func fileSystemUUID(_ name: String) -> String { uuid("file system \(name)") }
    /// The 8-hex-digit FAT volume serial of the EFI system partition.
    var espSerial: String { String(CanonicalJSON.sha256(Data("\(digest) esp".utf8)).prefix(8)).uppercased() }
}
