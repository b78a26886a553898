import Foundation
import ImagecCore
import ImageDSL

/// An image's CycloneDX 1.6 BOM (JSON): the image as the operating-system component of the
/// metadata, one component per .deb (purl, SHA-256, supplier, licence, its source package as
/// pedigree ancestor) and their dependencies. Byte-identical for one image: the serial number
/// derives from the image's digest, the time from its lock, every list is sorted.
public enum CycloneDXDocument {
    public static func json(_ inventory: ImageInventory) throws -> Data {
        let distro = inventory.distro
        let components: [JSONValue] = inventory.packages.map { package in
            var fields: [String: JSONValue] = [
                "type": .string("library"), "bom-ref": .string(package.purl(distro: distro)), "name": .string(package.name),
                "version": .string(package.version), "purl": .string(package.purl(distro: distro)),
                "hashes": .array([.object(["alg": .string("SHA-256"), "content": .string(package.sha256)])]),
                "pedigree": .object(["ancestors": .array([.object([
                    "type": .string("library"), "bom-ref": .string(package.sourcePurl(distro: distro) + "#" + package.name),
                    "name": .string(package.source), "version": .string(package.sourceVersion), "purl": .string(package.sourcePurl(distro: distro)),
                ])])]),
            ]
            if let supplier = supplier(package.maintainer) { fields["supplier"] = supplier }
            if let license = package.license {
                fields["licenses"] = .array([.object(["expression": .string(license.expression)])])
            }
            return .object(fields)
        }
        let byName = Dictionary(inventory.packages.map { ($0.name, $0.purl(distro: distro)) }, uniquingKeysWith: { a, _ in a })
        let dependencies: [JSONValue] = [.object(["ref": .string("image"), "dependsOn": .array(inventory.packages.map { .string($0.purl(distro: distro)) }.sorted { "\($0)" < "\($1)" })])]
            + inventory.packages.map { package in
                .object(["ref": .string(package.purl(distro: distro)),
                         "dependsOn": .array(package.dependencies.compactMap { byName[$0] }.sorted().map { .string($0) })])
            }
        let document: [String: JSONValue] = [
            "bomFormat": .string("CycloneDX"), "specVersion": .string("1.6"), "version": .integer(1),
            "serialNumber": .string("urn:uuid:\(uuid(inventory.digestHex))"),
            "metadata": .object([
                "timestamp": .string(inventory.createdText),
                "tools": .object(["components": .array([.object(["type": .string("application"), "name": .string("imagec"),
                                                                 "version": .string(Imagec.version)])])]),
                "component": .object([
                    "type": .string("operating-system"), "bom-ref": .string("image"), "name": .string(inventory.hostName),
                    "version": .string(inventory.digest),
                    "hashes": .array([.object(["alg": .string("SHA-256"), "content": .string(inventory.digestHex)])]),
                ]),
            ]),
            "components": .array(components),
            "dependencies": .array(dependencies),
        ]
        return try CanonicalJSON.encode(value: JSONValue.object(document))
    }

    /// A version-5-shaped UUID from the digest's first 32 hexadecimal digits.
    static func uuid(_ hex: String) -> String {
        var digits = Array(hex.prefix(32).lowercased())
        while digits.count < 32 { digits.append("0") }
        digits[12] = "5"
        digits[16] = ["8", "9", "a", "b"][Int(String(digits[16]), radix: 16).map { $0 & 3 } ?? 0]
        let text = String(digits)
        return [text.prefix(8), text.dropFirst(8).prefix(4), text.dropFirst(12).prefix(4), text.dropFirst(16).prefix(4), text.dropFirst(20)].joined(separator: "-")
    }

    /// `{"name": "Matthias Klose", "contact": [{"email": "doko@debian.org"}]}`.
    static func supplier(_ maintainer: String) -> JSONValue? {
        guard !maintainer.isEmpty else { return nil }
        guard let open = maintainer.firstIndex(of: "<"), let close = maintainer.lastIndex(of: ">"), open < close else {
            return .object(["name": .string(maintainer)])
        }
        return .object(["name": .string(maintainer[..<open].trimmingCharacters(in: .whitespaces)),
                        "contact": .array([.object(["email": .string(String(maintainer[maintainer.index(after: open)..<close]))])])])
    }
}
