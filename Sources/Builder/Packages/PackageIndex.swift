import Foundation

/// What imagec needs from the sources' `Packages` lists: every package name and virtual
/// package, which packages are Essential or of Priority required (a minimal system), and the
/// SHA-256 of every .deb the sources serve now, with the source package it was built from.
struct PackageIndex {
    private(set) var names = Set<String>()
    private(set) var served = Set<String>()
    private(set) var provided = Set<String>()
    private(set) var essential = Set<String>()
    /// The `Source:` field of each .deb that has one (`samtools`, or `gcc-12 (12.2.0-14)` for a
    /// binary whose version is not its source's), by SHA-256.
    private(set) var sources: [String: String] = [:]
    /// What each .deb needs and provides, by SHA-256: what splits a lock set into layers.
    private(set) var relations: [String: PackageRelations] = [:]

    init(lists: [URL]) throws {
        for list in lists {
            let data = try Data(contentsOf: list, options: .alwaysMapped)
            data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in scan(bytes) }
        }
    }

    func contains(_ name: String) -> Bool { names.contains(name) || provided.contains(name) }

    /// Whether the sources still serve this exact .deb.
    func serves(_ package: LockedPackage) -> Bool { served.contains(package.sha256) }

    /// `package` with its source package and version, as the sources say (a .deb without
    /// `Source:` is its own source, at its own version; a binNMU `1.2-3+b1` keeps the source's
    /// `1.2-3`). Unchanged when the sources no longer serve it.
    func withSource(_ package: LockedPackage) -> LockedPackage {
        guard served.contains(package.sha256) else { return package }
        var package = package
        let field = sources[package.sha256] ?? package.name
        let parts = field.split(separator: " ", maxSplits: 1)
        package.source = parts.first.map(String.init) ?? package.name  // an empty `Source:`: its own
        package.sourceVersion = parts.count == 2 ? String(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "() "))) : package.version
        return package
    }

    /// Reads the fields it needs line by line, without building every stanza.
    private mutating func scan(_ bytes: UnsafeRawBufferPointer) {
        var current = ""
        var source: String?, sha256: String?
        var depends: [String] = [], provides: [String] = []
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            let line = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            if line.isEmpty {
                // The stanza's end.
                if let sha256, let source { sources[sha256] = source }
                if let sha256 { relations[sha256] = PackageRelations(depends: depends, provides: provides) }
                source = nil
                sha256 = nil
                depends = []
                provides = []
            } else if line.starts(with: "Package: ".utf8) {
                current = String(decoding: line.dropFirst(9), as: UTF8.self)
                names.insert(current)
            } else if line.starts(with: "Source: ".utf8) {
                source = String(decoding: line.dropFirst(8), as: UTF8.self)
            } else if line.starts(with: "Provides: ".utf8) {
                for item in String(decoding: line.dropFirst(10), as: UTF8.self).split(separator: ",") {
                    if let name = item.split(separator: " ").first {
                        provided.insert(String(name))
                        provides.append(String(name))
                    }
                }
            } else if line.starts(with: "Depends: ".utf8) {
                depends.append(String(decoding: line.dropFirst(9), as: UTF8.self))
            } else if line.starts(with: "Pre-Depends: ".utf8) {
                depends.append(String(decoding: line.dropFirst(13), as: UTF8.self))
            } else if line.starts(with: "SHA256: ".utf8) {
                sha256 = String(decoding: line.dropFirst(8), as: UTF8.self)
                served.insert(sha256!)
            } else if line.elementsEqual("Essential: yes".utf8) || line.elementsEqual("Priority: required".utf8) {
                essential.insert(current)
            }
            start = end + 1
        }
    }
}

/// A .deb's `Depends:` and `Pre-Depends:` fields, as written, and the names it `Provides:`.
struct PackageRelations: Equatable, Sendable {
    var depends: [String]
    var provides: [String]

    /// Each dependency as its alternatives' package names, without versions or architecture
    /// qualifiers: `libc6 (>= 2.34), awk | mawk` gives `[["libc6"], ["awk", "mawk"]]`.
    var dependencyNames: [[String]] {
        depends.flatMap { $0.split(separator: ",") }.map { group in
            group.split(separator: "|").compactMap { alternative in
                alternative.split(whereSeparator: { $0 == " " || $0 == "(" }).first
                    .map { String($0.split(separator: ":").first ?? $0) }
            }
        }
    }
}
