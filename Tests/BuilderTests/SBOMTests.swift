import Foundation
@testable import ImagecCore
import ImageDSL
@testable import Packages
@testable import SBOM
import Testing

/// SBOMs from a lock and a package layer's tree: what they say of each package, byte-identical
/// output, and the reference validators' verdict (pyspdxtools, cyclonedx-python-lib).
struct SBOMTests {
    /// A lock set of four packages: a binNMU, a package built from another source, an epoch.
    static func set() -> PackageLock.PackageSet {
        func package(_ name: String, _ version: String, _ source: String, _ sourceVersion: String, arch: String = "amd64") -> LockedPackage {
            var package = LockedPackage(name: name, version: version, architecture: arch, size: 1000,
                                        sha256: CanonicalJSON.sha256(Data("\(name) \(version)".utf8)), path: "pool/main/\(name.prefix(1))/\(name)/\(name).deb")
            package.source = source
            package.sourceVersion = sourceVersion
            return package
        }
        return PackageLock.PackageSet(systems: ["node1"], distribution: .bookworm, architecture: .amd64, sources: "host", requested: ["bash"],
                                      sourceDateEpoch: 1_795_000_000, releases: nil, packages: [
            package("bash", "5.2.15-2+b2", "bash", "5.2.15-2"),
            package("libc6", "2.36-9+deb12u9", "glibc", "2.36-9+deb12u9"),
            package("perl-base", "5.36.0-7+deb12u1", "perl", "5.36.0-7+deb12u1"),
            package("libpam0g", "1:1.5.2-6+deb12u1", "pam", "1:1.5.2-6+deb12u1"),
        ])
    }

    /// Their dpkg records and copyright files, as a package layer holds them.
    static func tree() throws -> URL {
        let tree = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-sbom-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("var/lib/dpkg"), withIntermediateDirectories: true)
        try """
            Package: bash
            Status: install ok installed
            Architecture: amd64
            Source: bash (5.2.15-2)
            Version: 5.2.15-2+b2
            Maintainer: Matthias Klose <doko@debian.org>
            Pre-Depends: libc6 (>= 2.36), libtinfo6 (>= 6)
            Depends: base-files (>= 2.1.12), debianutils (>= 5.6-0.1)

            Package: libc6
            Status: install ok installed
            Architecture: amd64
            Source: glibc
            Version: 2.36-9+deb12u9
            Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
            Depends: libgcc-s1

            Package: perl-base
            Status: install ok installed
            Architecture: amd64
            Source: perl
            Version: 5.36.0-7+deb12u1
            Maintainer: Niko Tyni <ntyni@debian.org>
            Pre-Depends: libc6 (>= 2.35), libcrypt1 (>= 1:4.1.0)

            Package: libpam0g
            Status: install ok installed
            Architecture: amd64
            Source: pam
            Version: 1:1.5.2-6+deb12u1
            Maintainer: Sam Hartman <hartmans@debian.org>
            Depends: libaudit1 (>= 1:2.2.1), libc6 (>= 2.34) | libc6.1

            Package: removed-one
            Status: deinstall ok config-files
            Version: 1.0

            """.write(to: tree.appendingPathComponent("var/lib/dpkg/status"), atomically: true, encoding: .utf8)
        func copyright(_ package: String, _ text: String) throws {
            try FileManager.default.createDirectory(at: tree.appendingPathComponent("usr/share/doc/\(package)"), withIntermediateDirectories: true)
            try text.write(to: tree.appendingPathComponent("usr/share/doc/\(package)/copyright"), atomically: true, encoding: .utf8)
        }
        let format = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        try copyright("bash", format + "Upstream-Name: bash\n\nFiles: *\nCopyright: 1987-2022 Free Software Foundation, Inc.\nLicense: GPL-3+\n\nFiles: debian/*\nLicense: GPL-2+\n")
        try copyright("perl-base", format + "\nFiles: *\nCopyright: Larry Wall\nLicense: GPL-1+ or Artistic\n")
        try copyright("libpam0g", format + "\nFiles: *\nLicense: BSD-3-clause or GPL\n\nLicense: GPL\n Linux-PAM may be distributed under the GPL.\n")
        // Not machine-readable: no licence asserted.
        try copyright("libc6", "This is the Debian prepackaged version of the GNU C Library.\n")
        return tree
    }

    static func inventory() throws -> ImageInventory {
        let tree = try Self.tree()
        defer { try? FileManager.default.removeItem(at: tree) }
        return try ImageInventory(hostName: "node1", digest: "sha256:" + String(repeating: "ab", count: 32), set: set(), tree: tree)
    }

    @Test func eachPackageWithItsSourceSupplierDependenciesAndLicence() throws {
        let inventory = try Self.inventory()
        #expect(inventory.distro == "debian-12" && inventory.createdText == "2026-11-18T11:06:40Z")
        let bash = try #require(inventory.packages.first { $0.name == "bash" })
        #expect(bash.purl(distro: inventory.distro) == "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12")
        #expect(bash.sourcePurl(distro: inventory.distro) == "pkg:deb/debian/bash@5.2.15-2?arch=source&distro=debian-12")
        #expect(bash.dependencies == ["libc6"] && bash.license?.expression == "GPL-3.0-or-later")
        let pam = try #require(inventory.packages.first { $0.name == "libpam0g" })
        #expect(pam.purl(distro: inventory.distro) == "pkg:deb/debian/libpam0g@1:1.5.2-6%2Bdeb12u1?arch=amd64&distro=debian-12")
        #expect(pam.license?.expression == "BSD-3-Clause OR LicenseRef-GPL" && pam.license?.references == ["LicenseRef-GPL": "Linux-PAM may be distributed under the GPL."])
        #expect(inventory.packages.first { $0.name == "perl-base" }?.license?.expression == "GPL-1.0-or-later OR Artistic-1.0-Perl")
        #expect(inventory.packages.first { $0.name == "libc6" }.map { $0.license == nil && $0.source == "glibc" && $0.dependencies.isEmpty } == true)
    }

    @Test func bothDocumentsAreTheSameBytesAndPassTheirValidators() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-sbom-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let spdx = try SPDXDocument.json(try Self.inventory()), cycloneDX = try CycloneDXDocument.json(try Self.inventory())
        // Another order of the lock: the same bytes.
        var reordered = Self.set()
        reordered.packages.reverse()
        let tree = try Self.tree()
        defer { try? FileManager.default.removeItem(at: tree) }
        let again = try ImageInventory(hostName: "node1", digest: "sha256:" + String(repeating: "ab", count: 32), set: reordered, tree: tree)
        #expect(try SPDXDocument.json(again) == spdx && (try CycloneDXDocument.json(again)) == cycloneDX)

        let text = String(decoding: spdx, as: UTF8.self)
        #expect(text.contains("\"documentNamespace\": \"https://imagec.invalid/spdx/node1/abab") && text.contains("\"created\": \"2026-11-18T11:06:40Z\""))
        #expect(text.contains("\"supplier\": \"Organization: GNU Libc Maintainers (debian-glibc@lists.debian.org)\""))
        #expect(String(decoding: cycloneDX, as: UTF8.self).contains("\"serialNumber\": \"urn:uuid:abababab-abab-5bab-abab-abababababab\""))
        try spdx.write(to: folder.appendingPathComponent("sbom.spdx.json"))
        try cycloneDX.write(to: folder.appendingPathComponent("sbom.cdx.json"))
        let spdxCheck = try Self.validate(["\(Self.validators)/bin/pyspdxtools", "--infile", folder.appendingPathComponent("sbom.spdx.json").path])
        #expect(spdxCheck.status == 0 && !spdxCheck.output.contains("error"), "\(spdxCheck.output)")
        let cycloneDXCheck = try Self.validate(["\(Self.validators)/bin/python", "-c", Self.cycloneDXValidator, folder.appendingPathComponent("sbom.cdx.json").path])
        #expect(cycloneDXCheck.status == 0 && cycloneDXCheck.output.contains("valid"), "\(cycloneDXCheck.output)")
    }

    /// Where scripts/setup installs the validators (scripts/sbom-requirements.txt).
    static let validators = "/opt/imagec-sbom"

    /// cyclonedx-python-lib's strict JSON validator, on the file its first argument names.
    static let cycloneDXValidator = """
        import sys
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator
        error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())
        print(f"invalid: {error}" if error else "valid")
        sys.exit(1 if error else 0)
        """

    static func validate(_ command: [String]) throws -> (status: Int32, output: String) {
        let result = try Command(executable: command[0], arguments: Array(command.dropFirst()))
            .run(timeout: 120, outputFile: FileManager.default.temporaryDirectory.appendingPathComponent("imagec-validate-\(UUID().uuidString)"))
        return (result.status, result.output)
    }
}
