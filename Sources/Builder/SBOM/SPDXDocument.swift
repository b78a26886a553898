import Foundation
import ImagecCore
import ImageDSL

/// An image's SPDX 2.3 document (JSON): the image as the described operating system, one
/// package per .deb with its purl, SHA-256, supplier and declared licence, the source packages
/// that generate them, and the dependencies between them. Byte-identical for one image: the
/// namespace derives from the image's digest, the time from its packages' lock, every list is sorted.
public enum SPDXDocument {
    public static func json(_ inventory: ImageInventory) throws -> Data {
        var packages: [JSONValue] = [], relationships: [(String, String, String)] = [], references: [String: String] = [:]
        let image = "SPDXRef-Image"
        packages.append(.object([
            "SPDXID": .string(image), "name": .string(inventory.hostName), "versionInfo": .string(inventory.digest),
            "primaryPackagePurpose": .string("OPERATING-SYSTEM"), "downloadLocation": .string("NOASSERTION"), "filesAnalyzed": .bool(false),
            "checksums": .array([.object(["algorithm": .string("SHA256"), "checksumValue": .string(inventory.digestHex)])]),
            "licenseConcluded": .string("NOASSERTION"), "licenseDeclared": .string("NOASSERTION"), "copyrightText": .string("NOASSERTION"),
            "supplier": .string("NOASSERTION"),
        ]))
        relationships.append(("SPDXRef-DOCUMENT", "DESCRIBES", image))
        let ids = Dictionary(inventory.packages.map { ($0.name + ":" + $0.architecture, identifier("deb", $0.name, $0.version, $0.architecture)) },
                             uniquingKeysWith: { a, _ in a })
        var sources: [String: String] = [:]
        for package in inventory.packages {
            let id = ids[package.name + ":" + package.architecture]!
            var fields: [String: JSONValue] = [
                "SPDXID": .string(id), "name": .string(package.name), "versionInfo": .string(package.version),
                "downloadLocation": .string("NOASSERTION"), "filesAnalyzed": .bool(false), "primaryPackagePurpose": .string("LIBRARY"),
                "checksums": .array([.object(["algorithm": .string("SHA256"), "checksumValue": .string(package.sha256)])]),
                "externalRefs": .array([.object(["referenceCategory": .string("PACKAGE-MANAGER"), "referenceType": .string("purl"),
                                                 "referenceLocator": .string(package.purl(distro: inventory.distro))])]),
                "licenseConcluded": .string("NOASSERTION"), "licenseDeclared": .string(package.license?.expression ?? "NOASSERTION"),
                "copyrightText": .string("NOASSERTION"), "supplier": .string(supplier(package.maintainer)),
            ]
            if package.name != package.source || package.version != package.sourceVersion {
                fields["sourceInfo"] = .string("built from the source package \(package.source) \(package.sourceVersion)")
            }
            packages.append(.object(fields))
            references.merge(package.license?.references ?? [:]) { a, _ in a }
            relationships.append((image, "CONTAINS", id))
            for dependency in package.dependencies {
                if let target = inventory.packages.first(where: { $0.name == dependency }).flatMap({ ids[$0.name + ":" + $0.architecture] }) {
                    relationships.append((id, "DEPENDS_ON", target))
                }
            }
            let source = identifier("src", package.source, package.sourceVersion, "source")
            if sources[source] == nil {
                sources[source] = source
                packages.append(.object([
                    "SPDXID": .string(source), "name": .string(package.source), "versionInfo": .string(package.sourceVersion),
                    "downloadLocation": .string("NOASSERTION"), "filesAnalyzed": .bool(false), "primaryPackagePurpose": .string("SOURCE"),
                    "externalRefs": .array([.object(["referenceCategory": .string("PACKAGE-MANAGER"), "referenceType": .string("purl"),
                                                     "referenceLocator": .string(package.sourcePurl(distro: inventory.distro))])]),
                    "licenseConcluded": .string("NOASSERTION"), "licenseDeclared": .string("NOASSERTION"), "copyrightText": .string("NOASSERTION"),
                    "supplier": .string(supplier(package.maintainer)),
                ]))
            }
            relationships.append((source, "GENERATES", id))
        }
        func sortKey(_ value: JSONValue) -> String { if case .object(let fields) = value, case .string(let id)? = fields["SPDXID"] { return id } else { return "" } }
        var document: [String: JSONValue] = [
            "spdxVersion": .string("SPDX-2.3"), "dataLicense": .string("CC0-1.0"), "SPDXID": .string("SPDXRef-DOCUMENT"),
            "name": .string("\(inventory.hostName) \(inventory.digest)"),
            "documentNamespace": .string("https://imagec.invalid/spdx/\(inventory.hostName)/\(inventory.digestHex)"),
            "creationInfo": .object(["created": .string(inventory.createdText), "creators": .array([.string("Tool: imagec-\(Imagec.version)")])]),
            "packages": .array(packages.sorted { sortKey($0) < sortKey($1) }),
            "relationships": .array(Set(relationships.map { "\($0.0)\t\($0.1)\t\($0.2)" }).sorted().map { line in
                let parts = line.split(separator: "\t").map(String.init)
                return .object(["spdxElementId": .string(parts[0]), "relationshipType": .string(parts[1]), "relatedSpdxElement": .string(parts[2])])
            }),
        ]
        if !references.isEmpty {
            document["hasExtractedLicensingInfos"] = .array(references.sorted { $0.key < $1.key }.map {
                .object(["licenseId": .string($0.key), "extractedText": .string($0.value)])
            })
        }
        return try CanonicalJSON.encode(value: JSONValue.object(document))
    }

    /// `SPDXRef-deb-bash-5.2.15-2-b2-amd64`: letters, digits, dots and dashes only.
    static func identifier(_ kind: String, _ name: String, _ version: String, _ architecture: String) -> String {
        "SPDXRef-\(kind)-" + "\(name)-\(version)-\(architecture)".map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == ".") ? $0 : "-" }
    }

    /// A maintainer as SPDX's supplier: `Person: Name (address)`, or `Organization:` for a team.
    static func supplier(_ maintainer: String) -> String {
        guard !maintainer.isEmpty else { return "NOASSERTION" }
        let kind = maintainer.localizedCaseInsensitiveContains("team") || maintainer.contains("@lists.") || maintainer.contains("Debian ")
            ? "Organization" : "Person"
        if let open = maintainer.firstIndex(of: "<"), let close = maintainer.lastIndex(of: ">"), open < close {
            return "\(kind): \(maintainer[..<open].trimmingCharacters(in: .whitespaces)) (\(maintainer[maintainer.index(after: open)..<close]))"
        }
        return "\(kind): \(maintainer)"
    }
}
