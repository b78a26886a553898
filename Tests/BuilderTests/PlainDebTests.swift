import Foundation
import ImagecCore
import Packages
import Testing

/// The cache installs each .deb from a copy whose data member is uncompressed: dpkg must read
/// exactly the same package from it.
struct PlainDebTests {
    /// A .deb made by dpkg-deb with the given compression, with files whose data tar has an odd
    /// size once compressed or not, a symbolic link and a maintainer script.
    private func package(_ compression: String, in folder: URL) throws -> (LockedPackage, URL) {
        let tree = folder.appendingPathComponent("tree-\(compression)")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("DEBIAN"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("usr/share/plain"), withIntermediateDirectories: true)
        try "Package: plain-\(compression)\nVersion: 1.0-1\nArchitecture: all\nMaintainer: imagec <imagec@localhost>\nDescription: a test\n"
            .write(to: tree.appendingPathComponent("DEBIAN/control"), atomically: true, encoding: .utf8)
        try "#!/bin/sh\necho configured\n".write(to: tree.appendingPathComponent("DEBIAN/postinst"), atomically: true, encoding: .utf8)
        chmod(tree.appendingPathComponent("DEBIAN/postinst").path, 0o755)
        try Data((0..<100_001).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) })
            .write(to: tree.appendingPathComponent("usr/share/plain/data"))
        try FileManager.default.createSymbolicLink(atPath: tree.appendingPathComponent("usr/share/plain/link").path, withDestinationPath: "data")
        let deb = folder.appendingPathComponent("plain-\(compression).deb")
        try LocalArchive.run("/usr/bin/dpkg-deb", ["--root-owner-group", "-Z\(compression)", "-b", tree.path, deb.path])
        let data = try Data(contentsOf: deb)
        return (LockedPackage(name: "plain-\(compression)", version: "1.0-1", architecture: "all", size: data.count,
                              sha256: CanonicalJSON.sha256(data), path: "pool/\(deb.lastPathComponent)"), deb)
    }

    @Test(arguments: ["xz", "gzip", "none"])
    func thePlainFormHoldsTheSamePackage(compression: String) throws {
        let folder = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = Store(root: folder.appendingPathComponent("store"))
        let debs = DebCache(store: store)
        try FileManager.default.createDirectory(at: debs.directory, withIntermediateDirectories: true)
        let (package, deb) = try package(compression, in: folder)
        try FileManager.default.copyItem(at: deb, to: debs.file(for: package))

        let plain = try #require(try debs.installable([package], jobs: 2).first)
        #expect(plain == debs.plainFile(for: package).resolvingSymlinksInPath())
        let members = String(decoding: try LocalArchive.run("/usr/bin/ar", ["t", plain.path]), as: UTF8.self)
        #expect(members.split(separator: "\n").last == "data.tar")
        // What dpkg reads: the control member and the files, byte for byte.
        for part in ["--ctrl-tarfile", "--fsys-tarfile"] {
            #expect(try LocalArchive.run("/usr/bin/dpkg-deb", [part, plain.path]) == LocalArchive.run("/usr/bin/dpkg-deb", [part, deb.path]))
        }
        // dpkg installs it.
        let root = folder.appendingPathComponent("root")
        for path in ["var/lib/dpkg/updates", "var/lib/dpkg/info"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(path), withIntermediateDirectories: true)
        }
        FileManager.default.createFile(atPath: root.appendingPathComponent("var/lib/dpkg/status").path, contents: nil)
        try LocalArchive.run("/usr/bin/dpkg", ["--root=\(root.path)", "--force-script-chrootless", "--force-not-root", "-i", plain.path])
        #expect(try Data(contentsOf: root.appendingPathComponent("usr/share/plain/data")).count == 100_001)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root.appendingPathComponent("usr/share/plain/link").path) == "data")
        // Made once: the second call finds it.
        let made = try FileManager.default.attributesOfItem(atPath: plain.path)[.modificationDate] as? Date
        _ = try debs.installable([package], jobs: 1)
        #expect(try FileManager.default.attributesOfItem(atPath: plain.path)[.modificationDate] as? Date == made)
    }

    @Test func aFileThatIsNotADebIsNamed() throws {
        let folder = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let debs = DebCache(store: Store(root: folder))
        try FileManager.default.createDirectory(at: debs.directory, withIntermediateDirectories: true)
        let package = LockedPackage(name: "broken", version: "1", architecture: "all", size: 5, sha256: "00ff", path: "pool/broken.deb")
        try Data("hello".utf8).write(to: debs.file(for: package))
        let error = #expect(throws: BuildEnvironmentError.self) { try debs.installable([package], jobs: 1) }
        #expect(error?.description.contains(debs.file(for: package).path) == true)
        // Nothing half-written is left in the cache.
        #expect(try FileManager.default.contentsOfDirectory(atPath: debs.directory.appendingPathComponent("plain").path).isEmpty)
    }
}
