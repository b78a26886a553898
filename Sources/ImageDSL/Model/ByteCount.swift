/// A size in bytes, written with binary units: `.gibibytes(20)`, `.mebibytes(512)`.
public struct ByteCount: Codable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var bytes: UInt64

    public init(bytes: UInt64) { self.bytes = bytes }

    public static func mebibytes(_ n: UInt64) -> ByteCount { ByteCount(bytes: n << 20) }
    public static func gibibytes(_ n: UInt64) -> ByteCount { ByteCount(bytes: n << 30) }
    public static func tebibytes(_ n: UInt64) -> ByteCount { ByteCount(bytes: n << 40) }

    public static func < (a: ByteCount, b: ByteCount) -> Bool { a.bytes < b.bytes }

    /// The size in the largest binary unit that divides it evenly ("20 GiB", "512 MiB").
    public var description: String {
        let units: [(UInt64, String)] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, name) in units where bytes >= size && bytes % size == 0 {
            return "\(bytes / size) \(name)"
        }
        return "\(bytes) B"
    }

    /// The size rounded to one decimal in the largest unit under it ("93.2 MiB"), for progress.
    public var rounded: String {
        let units: [(UInt64, String)] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, name) in units where bytes >= size {
            let tenths = (bytes * 10 + size / 2) / size
            return "\(tenths / 10).\(tenths % 10) \(name)"
        }
        return "\(bytes) B"
    }

    public init(from decoder: any Decoder) throws {
        bytes = try decoder.singleValueContainer().decode(UInt64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(bytes)
    }
}
