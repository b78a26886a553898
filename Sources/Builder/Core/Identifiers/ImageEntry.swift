import Foundation

/// A built image's entry in the store, `<digest>-<host>/`, and the files it holds: the disk,
/// its digest, and the names of the store entries it was made from (the roots of garbage
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
    /// `imagec-blocks-v1:<hex>  disk.raw`: the disk's ``DiskDigest``.
    public var digestFile: URL { folder.appendingPathComponent(Self.diskFile + ".digest") }
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

    /// The disk's digest recorded at build time.
    public func recordedDigest() throws -> DiskDigest {
        let text = try String(contentsOf: digestFile, encoding: .utf8)
        guard let digest = text.split(separator: " ").first.flatMap({ DiskDigest(String($0)) }) else {
            throw BuildEnvironmentError("\(digestFile.path) holds no disk digest: the store is damaged; remove the entry and build again")
        }
        return digest
    }

    /// The entries it was made from (none recorded: none).
    public func inputs() -> [String] {
        ((try? String(contentsOf: inputsFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Writes the disk's digest and the inputs of a new entry.
    public func record(digest: DiskDigest, inputs: [String]) throws {
        try "\(digest)  \(Self.diskFile)\n".write(to: digestFile, atomically: true, encoding: .utf8)
        try record(inputs: inputs)
    }

    /// Writes the SHA-256 of `file` beside it (`<name>.sha256`, as `sha256sum` writes it; an
    /// initramfs is small and not sparse) and the inputs of a new entry.
    public func record(checksum: String, of file: URL, inputs: [String]) throws {
        try "\(checksum)  \(file.lastPathComponent)\n".write(to: folder.appendingPathComponent(file.lastPathComponent + ".sha256"),
                                                           atomically: true, encoding: .utf8)
        try record(inputs: inputs)
    }

    private func record(inputs: [String]) throws {
        try inputs.map { $0 + "\n" }.joined().write(to: inputsFile, atomically: true, encoding: .utf8)
    }
}
