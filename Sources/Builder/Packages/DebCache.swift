import Foundation
import ImagecCore
import ImageDSL

/// The store's .deb files, named by SHA-256: once a lock's packages are here a build needs no
/// network, and a version that has left the archive stays buildable.
public struct DebCache: Sendable {
    public var directory: URL

    public init(store: Store) { directory = store.root.appendingPathComponent("debs") }

    public func file(for package: LockedPackage) -> URL {
        directory.appendingPathComponent("\(package.sha256).deb")
    }

    /// Where the plain form of a package's .deb is kept (`PlainDeb`), beside it.
    public func plainFile(for package: LockedPackage) -> URL {
        directory.appendingPathComponent("plain/\(package.sha256).deb")
    }

    /// The files to install `packages` from, each in its plain form (`PlainDeb`), made from
    /// the cached .deb (checked against the lock when it came in) where it is not yet, `jobs`
    /// at once. The plain forms are the same packages and can be removed at any time.
    public func installable(_ packages: [LockedPackage], jobs: Int) throws -> [URL] {
        let folder = directory.resolvingSymlinksInPath().appendingPathComponent("plain")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try BoundedWork.map(packages, jobs: jobs) { package in
            let plain = folder.appendingPathComponent("\(package.sha256).deb")
            if FileManager.default.fileExists(atPath: plain.path) { return plain }
            // Made aside and renamed: a build beside this one may make the same file.
            let partial = folder.appendingPathComponent(".\(package.sha256)-\(getpid())-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(at: partial) }
            try PlainDeb.make(from: file(for: package).resolvingSymlinksInPath(), to: partial)
            guard rename(partial.path, plain.path) == 0 else {
                throw BuildEnvironmentError("cannot move \(partial.path) to \(plain.path): \(String(cString: strerror(errno)))")
            }
            return plain
        }
    }

    /// The packages of `set` the cache lacks.
    public func missing(from set: PackageLock.PackageSet) -> [LockedPackage] {
        set.packages.filter { !FileManager.default.fileExists(atPath: file(for: $0).path) }
    }

    /// Brings the packages of `set` the cache lacks from `origins`, tried in order, each for
    /// what the ones before it lacked; every file is checked against the lock's SHA-256.
    /// A package no origin has makes it fail with ``UnavailablePackages`` (what was fetched
    /// stays in the cache): the build calls it before doing any other work.
    /// - Returns: the bytes downloaded.
    @discardableResult
    public func fetch(_ set: PackageLock.PackageSet, origins: [PackageOrigin], progress: ProgressReporter = .silent) throws -> Int {
        var missing = missing(from: set)
        guard !missing.isEmpty else { return 0 }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Downloads land beside the cache (the same file system) and are renamed into it.
        let incoming = directory.appendingPathComponent(".incoming-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: incoming, withIntermediateDirectories: false)
        Interruption.removeOnInterrupt(incoming)
        defer {
            try? FileManager.default.removeItem(at: incoming)
            Interruption.forget(incoming)
        }
        let bytes = missing.reduce(0) { $0 + $1.size }
        progress("fetching \(missing.count) packages (\(ByteCount(bytes: UInt64(bytes)).rounded))")
        let started = Date()
        var tried: [String] = [], reasons: [String: [String]] = [:]
        for origin in origins where !missing.isEmpty {
            var failures = try origin.fetch(missing, into: incoming)
            // Checked here whatever the origin checked: a corrupted file is not used.
            for package in missing where failures[package.sha256] == nil {
                let downloaded = incoming.appendingPathComponent("\(package.sha256).deb")
                if (try? SparseFile.sha256(of: downloaded)) != package.sha256 {
                    failures[package.sha256] = "its SHA-256 differs from the lock's"
                    try? FileManager.default.removeItem(at: downloaded)
                }
            }
            let got = missing.filter { failures[$0.sha256] == nil }
            for package in got {
                let downloaded = incoming.appendingPathComponent("\(package.sha256).deb")
                guard rename(downloaded.path, file(for: package).path) == 0 else {
                    throw BuildEnvironmentError("cannot move \(downloaded.path) into \(directory.path): \(String(cString: strerror(errno)))")
                }
                if origin.isFallback { progress("  \(package.name) \(package.version) from \(origin.description)") }
            }
            if !got.isEmpty {
                let size = got.reduce(0) { $0 + $1.size }
                progress("fetched \(got.count) packages (\(ByteCount(bytes: UInt64(size)).rounded)) from \(origin.description)")
            }
            missing = missing.filter { failures[$0.sha256] != nil }
            for (sha256, reason) in failures { reasons[sha256, default: []].append("\(origin.description): \(reason)") }
            tried.append(origin.description)
        }
        guard missing.isEmpty else {
            throw UnavailablePackages(packages: missing.map { ($0, reasons[$0.sha256] ?? []) }, tried: tried)
        }
        let seconds = max(Date().timeIntervalSince(started), 0.001)
        progress("fetched \(ByteCount(bytes: UInt64(bytes)).rounded) in \(String(format: "%.1f", seconds)) s "
            + "(\(ByteCount(bytes: UInt64(Double(bytes) / seconds)).rounded)/s)")
        return bytes
    }
}

/// Locked packages that no origin could supply.
public struct UnavailablePackages: Error, Sendable {
    /// Each package, with why each origin did not supply it (`the apt source …: 404  Not Found`).
    public var packages: [(package: LockedPackage, reasons: [String])]
    /// The origins tried, in order.
    public var tried: [String]
}
