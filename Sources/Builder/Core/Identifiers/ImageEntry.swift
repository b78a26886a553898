import Foundation

/// A built image's entry in the store, `<digest>-<host>/`, and the files it holds: the disk,
/// its checksum, and the names of the store entries it was made from (the roots of garbage
/// collection and of a shared-store push).
public struct ImageEntry: Hashable, Sendable {
    public var folder: URL

    public init(folder: URL) {
        self.folder = folder
    }

    /// `<digest hex>-<host>`.
    public static func name(digest: ImageDigest, host: String) -> String { "\(digest.hex)-\(host)" }

    public var name: String { folder.lastPathComponent }
    /// The raw (sparse) disk image.
    public var disk: URL { folder.appendingPathComponent(Self.diskFile) }
    /// `<sha256>  disk.raw`, as `sha256sum` writes it.
    public var checksumFile: URL { folder.appendingPathComponent(Self.diskFile + ".sha256") }
    /// The entries it was made from, a name per line.
    public var inputsFile: URL { folder.appendingPathComponent("inputs") }

    /// For images with two root slots, what an installer writes onto a machine's disk
    /// (`SlotImage`, canonical JSON).
    public var slotImageFile: URL { folder.appendingPathComponent("slot-image.json") }

    /// For an initramfs system (`ImageFormat.initramfs`): the compressed cpio archive and the
    /// kernel that boots it, instead of a disk.
    public var initramfs: URL { folder.appendingPathComponent("initramfs.img") }
    public var kernel: URL { folder.appendingPathComponent("vmlinuz") }

    /// The image's SBOMs: SPDX 2.3 and CycloneDX 1.6 JSON (written by the build).
    public var spdxFile: URL { folder.appendingPathComponent("sbom.spdx.json") }
    public var cycloneDXFile: URL { folder.appendingPathComponent("sbom.cdx.json") }

    static let diskFile = "disk.raw"

    /// The partition table and block indexes, if the image has root slots.
    public func slotImage() throws -> SlotImage? {
        guard FileManager.default.fileExists(atPath: slotImageFile.path) else { return nil }
        return try JSONDecoder().decode(SlotImage.self, from: Data(contentsOf: slotImageFile))
    }

    /// The disk's SHA-256 recorded at build time.
    public func recordedChecksum() throws -> String {
        String(try String(contentsOf: checksumFile, encoding: .utf8).prefix(64))
    }

    /// The entries it was made from (none recorded: none).
    public func inputs() -> [String] {
        ((try? String(contentsOf: inputsFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Writes the checksum of the disk (or of `file`, beside it as `<name>.sha256`) and the
    /// inputs of a new entry.
    public func record(checksum: String, of file: URL? = nil, inputs: [String]) throws {
        let name = file?.lastPathComponent ?? Self.diskFile
        try "\(checksum)  \(name)\n".write(to: folder.appendingPathComponent(name + ".sha256"), atomically: true, encoding: .utf8)
        try inputs.map { $0 + "\n" }.joined().write(to: inputsFile, atomically: true, encoding: .utf8)
    }
}
