import Foundation
import ImageDSL

/// The store's .deb files, named by SHA-256: once a lock's packages are here a build needs no
/// network, and a version that has left the archive stays buildable.
public struct DebCache: Sendable {
    public var directory: URL

    public init(store: Store) { directory = store.root.appendingPathComponent("debs") }

    public func file(for package: LockedPackage) -> URL {
        directory.appendingPathComponent("\(package.sha256).deb")
    }

    /// Downloads the packages of `set` the cache lacks, from `sources`, checking each SHA-256.
    /// - Returns: the bytes downloaded.
    @discardableResult
    public func fetch(
        _ set: PackageLock.PackageSet, sources: [AptSource], scratch: URL, progress: (String) -> Void = { _ in }
    ) throws -> Int {
        let missing = set.packages.filter { !FileManager.default.fileExists(atPath: file(for: $0).path) }
        guard !missing.isEmpty else { return 0 }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let apt = try PrivateApt(root: scratch.appendingPathComponent("apt"), sources: sources, architecture: set.architecture)
        try apt.update()
        let downloads = scratch.appendingPathComponent("downloads")
        try FileManager.default.createDirectory(at: downloads, withIntermediateDirectories: true)

        let bytes = missing.reduce(0) { $0 + $1.size }
        progress("fetching \(missing.count) packages (\(ByteCount(bytes: UInt64(bytes)).rounded))")
        let started = Date()
        let result = try apt.run(
            ["download", "-q"] + missing.map { "\($0.name):\($0.architecture)=\($0.version)" }, workingDirectory: downloads)
        if result.status != 0 {
            let errors = result.output.split(separator: "\n").filter { $0.hasPrefix("E:") }
            throw BuildEnvironmentError(
                "cannot download the locked packages (a version may have left the archive; the store's cache lacks it):\n  "
                    + errors.joined(separator: "\n  "))
        }
        for package in missing {
            let name = "\(package.name)_\(package.version.replacingOccurrences(of: ":", with: "%3a"))_\(package.architecture).deb"
            let downloaded = downloads.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: downloaded.path) else {
                throw BuildEnvironmentError("apt did not download \(name)")
            }
            let digest = CanonicalJSON.sha256(data)
            guard digest == package.sha256 else {
                throw BuildEnvironmentError("\(name) has SHA-256 \(digest), but the lock says \(package.sha256)")
            }
            guard rename(downloaded.path, file(for: package).path) == 0 else {
                throw BuildEnvironmentError("cannot move \(name) into \(directory.path): \(String(cString: strerror(errno)))")
            }
        }
        let seconds = max(Date().timeIntervalSince(started), 0.001)
        progress("fetched \(ByteCount(bytes: UInt64(bytes)).rounded) in \(String(format: "%.1f", seconds)) s "
            + "(\(ByteCount(bytes: UInt64(Double(bytes) / seconds)).rounded)/s)")
        return bytes
    }
}
