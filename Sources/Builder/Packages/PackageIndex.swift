import Foundation

/// What imagec needs from the sources' `Packages` lists: every package name and virtual
/// package, which packages are Essential or of Priority required (a minimal system), and the
/// SHA-256 of every .deb the sources serve now.
struct PackageIndex {
    private(set) var names = Set<String>()
    private(set) var served = Set<String>()
    private(set) var provided = Set<String>()
    private(set) var essential = Set<String>()

    init(lists: [URL]) throws {
        for list in lists {
            let data = try Data(contentsOf: list, options: .alwaysMapped)
            data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in scan(bytes) }
        }
    }

    func contains(_ name: String) -> Bool { names.contains(name) || provided.contains(name) }

    /// Whether the sources still serve this exact .deb.
    func serves(_ package: LockedPackage) -> Bool { served.contains(package.sha256) }

    /// Reads the fields it needs line by line, without building every stanza.
    private mutating func scan(_ bytes: UnsafeRawBufferPointer) {
        var current = ""
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            let line = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            if line.starts(with: "Package: ".utf8) {
                current = String(decoding: line.dropFirst(9), as: UTF8.self)
                names.insert(current)
            } else if line.starts(with: "Provides: ".utf8) {
                for item in String(decoding: line.dropFirst(10), as: UTF8.self).split(separator: ",") {
                    if let name = item.split(separator: " ").first { provided.insert(String(name)) }
                }
            } else if line.starts(with: "SHA256: ".utf8) {
                served.insert(String(decoding: line.dropFirst(8), as: UTF8.self))
            } else if line.elementsEqual("Essential: yes".utf8) || line.elementsEqual("Priority: required".utf8) {
                essential.insert(current)
            }
            start = end + 1
        }
    }
}
