import Foundation
@testable import Identity
@testable import Pools
import Testing

/// Stable per-host SSH keys in a private secrets directory.
struct HostKeysTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func mode(_ url: URL) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    func sshKeygen(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.start()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func keysAreMadeOncePrivateAndListedInKnownHosts() throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let keys = HostKeys(directory: scratch.appendingPathComponent("secrets"))
        let first = try keys.keys(for: "bigmem2", types: ["ed25519", "rsa"])
        #expect(first.map(\.type) == ["ed25519", "rsa"])
        #expect(try mode(keys.directory) == 0o700 && mode(first[0].privateKey) == 0o600)
        #expect(first[0].publicKey.hasPrefix("ssh-ed25519 ") && first[0].publicKey.hasSuffix(" root@bigmem2"))
        // The same keys at every later call: a reinstall presents them again.
        #expect(try keys.keys(for: "bigmem2", types: ["ed25519", "rsa"]).map(\.publicKey) == first.map(\.publicKey))
        #expect(try keys.keys(for: "bigmem3")[0].publicKey != first[0].publicKey)

        let knownHosts = scratch.appendingPathComponent("known_hosts")
        try (try keys.knownHostsLines(for: "bigmem2", names: ["bigmem2", "bigmem2.lab.example", "10.8.0.42"]).joined(separator: "\n") + "\n")
            .write(to: knownHosts, atomically: true, encoding: .utf8)
        for name in ["bigmem2.lab.example", "10.8.0.42"] {
            #expect(try sshKeygen(["-F", name, "-f", knownHosts.path]).status == 0, "\(name) not in known_hosts")
        }

        // Signed by a lab CA: a host certificate for its names.
        let authority = scratch.appendingPathComponent("lab_ca")
        #expect(try sshKeygen(["-q", "-t", "ed25519", "-N", "", "-f", authority.path]).status == 0)
        let certificates = try keys.certify(host: "bigmem2", names: ["bigmem2", "bigmem2.lab.example"], authority: authority)
        let shown = try sshKeygen(["-L", "-f", certificates[0].path]).output
        #expect(shown.contains("host certificate") && shown.contains("bigmem2.lab.example"), "\(shown)")

        // Loose permissions are refused, with the fix.
        chmod(keys.directory.path, 0o755)
        #expect { try keys.keys(for: "bigmem2") } throws: { error in
            "\(error)".contains("is open to others (mode 755): run `chmod 700 \(keys.directory.path)`")
        }
        chmod(keys.directory.path, 0o700)
        chmod(first[0].privateKey.path, 0o644)
        #expect(throws: IdentityError.self) { try keys.keys(for: "bigmem2") }
        #expect(throws: IdentityError.self) { try keys.keys(for: "../etc") }
    }
}
