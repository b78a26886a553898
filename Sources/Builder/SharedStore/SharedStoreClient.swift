import Crypto
import Foundation
import ImagecCore

/// Store entries in an object store other hosts share, signed: what one build host pushes,
/// another substitutes instead of building it.
///
/// An entry's files (and its folders, as tar archives) are cut in 4 MiB chunks, each an object named by its SHA-256 (all-zero
/// chunks of sparse images are not stored; identical chunks of two entries are stored once).
/// The entry itself is a manifest object naming its files, their modes and chunks, signed with
/// the pushing host's ed25519 key; it is written last, so a push killed at any point leaves no
/// entry a build could take. A fetch accepts only manifests signed by a trusted key and checks
/// every chunk against its SHA-256.
public struct SharedStoreClient: Sendable {
    public var objects: ObjectStore
    /// Public keys (`ed25519:<base64>`) whose entries are accepted.
    public var trustedKeys: [String]
    static let chunkSize = 4 << 20

    public init(objects: ObjectStore, trustedKeys: [String]) {
        self.objects = objects
        self.trustedKeys = trustedKeys
    }

    public var description: String { objects.description }

    /// The signed description of an entry.
    struct Manifest: Codable {
        struct File: Codable {
            var path: String
            var size: Int
            var mode: Int
            /// The SHA-256 of each chunk; empty for a chunk of zeros.
            var chunks: [String]
            /// A folder, archived by `TreeArchive` (`nil` for a file).
            var tree: Bool?
        }

        var entry: String
        var files: [File]
        var signedBy: String
        var signature: String?

        /// What the signature covers: the manifest without it.
        var signedBytes: Data {
            get throws {
                var unsigned = self
                unsigned.signature = nil
                return try CanonicalJSON.encode(value: unsigned)
            }
        }
    }

    static func entryObject(_ name: String) -> String { "imagec.entry.\(name)" }
    static func chunkObject(_ sha256: String) -> String { "imagec.chunk.\(sha256)" }

    /// Whether the shared store holds the entry (signed by anyone).
    public func holds(_ name: String) throws -> Bool { try objects.exists(Self.entryObject(name)) }

    /// Pushes the entry `folder` under its folder's name, signed with `key`: its files, and its
    /// folders as tar archives (`TreeArchive`, made in `scratch`); an entry already there is
    /// left as it is.
    /// - Returns: the bytes written.
    @discardableResult
    public func push(_ folder: URL, key: StoreSigningKey, scratch: URL = FileManager.default.temporaryDirectory) throws -> Int {
        let name = folder.lastPathComponent
        guard try !holds(name) else { return 0 }
        var written = 0
        var files: [Manifest.File] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() {
            var url = folder.appendingPathComponent(file)
            var info = stat()
            guard lstat(url.path, &info) == 0 else { throw BuildEnvironmentError("cannot read \(url.path): \(String(cString: strerror(errno)))") }
            let isTree = info.st_mode & S_IFMT == S_IFDIR
            guard isTree || info.st_mode & S_IFMT == S_IFREG else {
                throw BuildEnvironmentError("\(url.path) is neither a file nor a folder: the shared store cannot take it")
            }
            // A folder travels as an archive, removed once its chunks are written.
            let archive = scratch.appendingPathComponent("imagec-tree-\(getpid())-\(UUID().uuidString.prefix(8)).tar")
            defer {
                if isTree {
                    try? FileManager.default.removeItem(at: archive)
                    Interruption.forget(archive)
                }
            }
            if isTree {
                Interruption.removeOnInterrupt(archive)
                try TreeArchive.write(url, to: archive)
                url = archive
                guard stat(url.path, &info) == 0 else { throw BuildEnvironmentError("cannot read \(url.path)") }
            }
            var chunks: [String] = []
            try SparseFile.forEachChunk(of: url, size: Self.chunkSize) { _, bytes in
                guard let bytes else { return chunks.append("") }
                let chunk = Data(bytes)
                let sha256 = CanonicalJSON.sha256(chunk)
                if try !objects.exists(Self.chunkObject(sha256)) {
                    try objects.write(Self.chunkObject(sha256), chunk)
                    written += chunk.count
                }
                chunks.append(sha256)
            }
            files.append(Manifest.File(path: file, size: Int(info.st_size), mode: Int(info.st_mode & 0o7777), chunks: chunks,
                                       tree: isTree ? true : nil))
        }
        var manifest = Manifest(entry: name, files: files, signedBy: key.publicKey, signature: nil)
        manifest.signature = try key.signature(for: try manifest.signedBytes)
        let data = try CanonicalJSON.encode(value: manifest)
        try objects.write(Self.entryObject(name), data)
        return written + data.count
    }

    /// Writes the entry `name` into `folder` if the shared store holds it, signed by a trusted
    /// key and every chunk intact; `nil` when it does not hold it.
    /// - Returns: the bytes read.
    /// - Throws: ``SubstituteRefused`` for an entry signed by another key or corrupted.
    public func fetch(_ name: String, into folder: URL) throws -> Int? {
        guard let data = try objects.read(Self.entryObject(name)) else { return nil }
        guard let manifest = try? JSONDecoder().decode(Manifest.self, from: data), manifest.entry == name else {
            throw SubstituteRefused("entry \(name) in \(description) cannot be read")
        }
        guard trustedKeys.contains(manifest.signedBy) else {
            throw SubstituteRefused("entry \(name) in \(description) is signed by key \(StoreSigningKey.fingerprint(manifest.signedBy)) "
                + "(\(manifest.signedBy)), which the site does not trust (SharedStore(…, trusting:))")
        }
        guard let signature = manifest.signature, StoreSigningKey.isValid(signature, of: try manifest.signedBytes, by: manifest.signedBy) else {
            throw SubstituteRefused("entry \(name) in \(description) has no valid signature of the key it names")
        }
        var read = data.count
        for file in manifest.files {
            guard !file.path.contains("/"), !file.path.hasPrefix(".") else { throw SubstituteRefused("entry \(name) names a file \(file.path)") }
            let target = folder.appendingPathComponent(file.path)
            let url = file.tree == true ? folder.appendingPathComponent(".\(file.path).tar") : target
            read += try write(file, of: name, to: url)
            if file.tree == true {
                try TreeArchive.extract(url, into: target)
                try FileManager.default.removeItem(at: url)
            }
        }
        return read
    }

    /// Writes a file of an entry from its chunks, each checked against its SHA-256.
    private func write(_ file: Manifest.File, of name: String, to url: URL) throws -> Int {
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw BuildEnvironmentError("cannot write \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard ftruncate(descriptor, off_t(file.size)) == 0 else { throw BuildEnvironmentError("cannot size \(url.path)") }
        var read = 0
        for (index, sha256) in file.chunks.enumerated() where !sha256.isEmpty {
            guard let chunk = try objects.read(Self.chunkObject(sha256)) else {
                throw SubstituteRefused("entry \(name) in \(description) lacks its chunk \(sha256)")
            }
            let actual = CanonicalJSON.sha256(chunk)
            guard actual == sha256 else {
                throw SubstituteRefused("object \(Self.chunkObject(sha256)) of entry \(name) in \(description) is corrupted "
                    + "(its SHA-256 is \(actual)): not used")
            }
            let offset = index * Self.chunkSize
            let done = chunk.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, chunk.count, off_t(offset)) }
            guard done == chunk.count else { throw BuildEnvironmentError("cannot write \(url.path) at \(offset)") }
            read += chunk.count
        }
        fchmod(descriptor, mode_t(file.mode))
        return read
    }
}

/// An entry of the shared store that a build does not take: signed by a key the site does not
/// trust, or corrupted. The build goes on without it.
public struct SubstituteRefused: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
