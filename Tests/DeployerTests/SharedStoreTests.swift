import Foundation
@testable import ImageBuild
@testable import ImagecCore
import ImageDSL
@testable import Packages
@testable import Pools
@testable import SharedStore
import Testing

/// The lab's shared store on a throw-away Ceph cluster: host A builds and pushes, host B (an
/// empty store, apt unreachable) substitutes the same image; corrupted objects, unknown keys,
/// a push killed by SIGKILL and an unreachable cluster.
@Suite(.serialized)
struct SharedStoreTests {
    /// test001 as in the repository, with a shared store trusting `keys`.
    static func definition(cluster configuration: String, trusting keys: [String], motd: String? = nil) throws -> String {
        let original = try String(contentsOf: PoolTests.repository.appendingPathComponent("systems/test001.swift"), encoding: .utf8)
        let keys = keys.map { "\"\($0)\"" }.joined(separator: ", ")
        return original.replacingOccurrences(of: "    HostName(\"test001\")\n", with: """
                HostName("test001")
                SharedStore(pool: "rbd", configuration: "\(configuration)", trusting: [\(keys)])
            \(motd.map { "    File(\"/etc/imagec-shared\", contents: \"\($0)\\n\")\n" } ?? "")
            """)
    }

    @Test func hostBSubstitutesWhatHostABuilt() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-shared-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("systems"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: PoolTests.repository.appendingPathComponent("templates"), to: folder.appendingPathComponent("templates"))
        let cluster = try CephCluster.start()
        defer { cluster.stop() }
        let file = folder.appendingPathComponent("systems/test001.swift")
        let hostA = ["IMAGEC_STORE": folder.appendingPathComponent("store-a").path, "IMAGEC_SECRETS": folder.appendingPathComponent("secrets-a").path]
        // Host B reaches no apt source: any download would be refused.
        let hostB = ["IMAGEC_STORE": folder.appendingPathComponent("store-b").path, "IMAGEC_SECRETS": folder.appendingPathComponent("secrets-b").path,
                     "http_proxy": "http://127.0.0.1:1", "https_proxy": "http://127.0.0.1:1"]

        // Host A: its key, a fresh lock, a build pushed to the shared store.
        let keyA = try DeployTests.imagec(["store", "key"], in: folder, environment: hostA)
        #expect(keyA.status == 0, "\(keyA.output)")
        let key = keyA.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("ed25519:"))
        try Self.definition(cluster: cluster.configuration, trusting: [key]).write(to: file, atomically: true, encoding: .utf8)
        #expect(try DeployTests.imagec(["lock", "systems/test001.swift"], in: folder, environment: hostA).status == 0)
        let built = try DeployTests.imagec(["build", "--push-store", "systems/test001.swift"], in: folder, environment: hostA)
        #expect(built.status == 0 && built.output.contains("pushed "), "\(built.output)")
        let entry = try #require(built.output.split(separator: "\n").last.map(String.init))
        let name = URL(fileURLWithPath: entry).lastPathComponent

        // Host B: an empty store, apt refused; the same digest and the same bytes, substituted.
        let substituted = try DeployTests.imagec(["build", "--json", "systems/test001.swift"], in: folder, environment: hostB)
        #expect(substituted.status == 0 && substituted.output.contains("substituted \(name) from the shared store"), "\(substituted.output)")
        #expect(substituted.output.contains("\"substituted\": true") && !substituted.output.contains("fetching"), "\(substituted.output)")
        let copy = folder.appendingPathComponent("store-b/\(name)")
        #expect(try SparseFile.sha256(of: copy.appendingPathComponent("disk.raw"))
                == (try SparseFile.sha256(of: URL(fileURLWithPath: entry).appendingPathComponent("disk.raw"))))
        #expect(try Data(contentsOf: copy.appendingPathComponent("disk.raw.digest"))
                == (try Data(contentsOf: URL(fileURLWithPath: entry).appendingPathComponent("disk.raw.digest"))))

        // The locked .debs come from the shared store too, before any apt source.
        let set = try #require(try PackageLock.read(from: PackageLock.url(for: file))?.sets.first)
        let objects = try RADOSObjectStore(SharedStore(pool: "rbd", configuration: cluster.configuration, trusting: []))
        let trusting = SharedStoreClient(objects: objects, trustedKeys: [key])
        let hostC = Store(root: folder.appendingPathComponent("store-c"))
        let debBytes = try DebCache(store: hostC).fetch(set, origins: [SharedStoreOrigin(client: trusting)])
        #expect(debBytes == set.packages.reduce(0) { $0 + $1.size } && DebCache(store: hostC).missing(from: set).isEmpty)

        // A chunk with one flipped byte: detected, named with its digest, not used.
        let manifest = try JSONDecoder().decode(SharedStoreClient.Manifest.self, from: try #require(try objects.read(SharedStoreClient.entryObject(name))))
        let chunk = try #require(manifest.files.first { $0.path == "disk.raw" }?.chunks.first { !$0.isEmpty })
        let good = try #require(try objects.read(SharedStoreClient.chunkObject(chunk)))
        var bad = good
        bad[100] ^= 0x01
        try objects.write(SharedStoreClient.chunkObject(chunk), bad)
        let scratch = folder.appendingPathComponent("scratch")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        #expect {
            _ = try trusting.fetch(name, into: scratch)
        } throws: { error in
            "\(error)".contains("object imagec.chunk.\(chunk) of entry \(name)") && "\(error)".contains("is corrupted (its SHA-256 is \(CanonicalJSON.sha256(bad)))")
        }
        var builder = ImageBuilder(store: Store(root: folder.appendingPathComponent("store-d")))
        builder.sharedStore = trusting
        let said = ProgressLines()
        let taken = try builder.substitute(name, progress: .lines(said.append))
        #expect(taken == nil && builder.store.entry(name) == nil)
        #expect(said.all.contains { $0.contains("is corrupted") }, "\(said.all)")
        try objects.write(SharedStoreClient.chunkObject(chunk), good)

        // Signed by a key the site does not trust: refused, naming the key.
        let other = SharedStoreClient(objects: objects, trustedKeys: ["ed25519:" + Data(repeating: 7, count: 32).base64EncodedString()])
        #expect {
            _ = try other.fetch(name, into: scratch)
        } throws: { error in
            "\(error)".contains("is signed by key \(StoreSigningKey.fingerprint(key)) (\(key)), which the site does not trust")
        }

        // A push killed by SIGKILL once it has written objects: no entry a build could take;
        // the push run again completes it.
        try Self.definition(cluster: cluster.configuration, trusting: [key], motd: "two").write(to: file, atomically: true, encoding: .utf8)
        let second = try DeployTests.imagec(["build", "systems/test001.swift"], in: folder, environment: hostA)
        #expect(second.status == 0, "\(second.output)")
        let secondName = try #require(second.output.split(separator: "\n").last.map { URL(fileURLWithPath: String($0)).lastPathComponent })
        let before = try PoolTests.output("/usr/bin/rados", ["-c", cluster.configuration, "-p", "rbd", "ls"]).split(separator: "\n").count
        let (push, _) = try DeployTests.start(["store", "push", "systems/test001.swift"], in: folder, environment: hostA)
        var written = before
        for _ in 0..<600 where push.isRunning && written < before + 3 {
            usleep(50_000)
            written = try PoolTests.output("/usr/bin/rados", ["-c", cluster.configuration, "-p", "rbd", "ls"]).split(separator: "\n").count
        }
        kill(push.processIdentifier, SIGKILL)
        push.waitUntilExit()
        #expect(written >= before + 3, "the push wrote nothing before it was killed")
        #expect(try trusting.holds(secondName) == false)
        #expect(try trusting.fetch(secondName, into: scratch) == nil)
        let again = try DeployTests.imagec(["store", "push", "systems/test001.swift"], in: folder, environment: hostA)
        let holds = try trusting.holds(secondName)
        #expect(again.status == 0 && holds, "\(again.output)")

        // A change the shared store has no image of: host B takes the package layer (a tree,
        // archived by libarchive) and the root base from it, fetches no .deb, and gets the
        // same bytes as host A, which made them itself.
        try Self.definition(cluster: cluster.configuration, trusting: [key], motd: "three").write(to: file, atomically: true, encoding: .utf8)
        let layered = try DeployTests.imagec(["build", "systems/test001.swift"], in: folder, environment: hostB)
        #expect(layered.status == 0 && layered.output.contains("-rootfs-bookworm-amd64 from the shared store")
                && layered.output.contains("-rootbase from the shared store") && !layered.output.contains("fetching"), "\(layered.output)")
        let local = try DeployTests.imagec(["build", "systems/test001.swift"], in: folder, environment: hostA)
        #expect(local.status == 0, "\(local.output)")
        let third = try #require(local.output.split(separator: "\n").last.map { URL(fileURLWithPath: String($0)) })
        #expect(layered.output.hasSuffix("/\(third.lastPathComponent)\n"), "\(layered.output)")
        #expect(try SparseFile.sha256(of: third.appendingPathComponent("disk.raw"))
                == (try SparseFile.sha256(of: folder.appendingPathComponent("store-b/\(third.lastPathComponent)/disk.raw"))))

        // A shared store that cannot be reached: said, in bounded time, and the build goes on.
        let unreachable = folder.appendingPathComponent("unreachable.conf")
        try "[global]\nmon host = v2:127.0.0.1:1/0\nkeyring = \(cluster.directory.path)/keyring\n".write(to: unreachable, atomically: true, encoding: .utf8)
        try Self.definition(cluster: unreachable.path, trusting: [key], motd: "two").write(to: file, atomically: true, encoding: .utf8)
        let started = Date()
        let down = try DeployTests.imagec(["build", "systems/test001.swift"], in: folder, environment: hostA)
        #expect(down.status == 0 && down.output.contains("warning: the shared store (RADOS pool rbd of \(unreachable.path)) cannot be reached, building without it"),
                "\(down.output)")
        #expect(Date().timeIntervalSince(started) < 60)

        // A shared store whose client key is wrong: the same, with the reason.
        let wrongKeyring = folder.appendingPathComponent("wrong.keyring")
        let otherKey = try PoolTests.output("/usr/bin/ceph-authtool", ["--gen-print-key"]).trimmingCharacters(in: .whitespacesAndNewlines)
        try "[client.admin]\n\tkey = \(otherKey)\n".write(to: wrongKeyring, atomically: true, encoding: .utf8)
        let wrong = folder.appendingPathComponent("wrong.conf")
        try String(contentsOfFile: cluster.configuration, encoding: .utf8)
            .replacingOccurrences(of: "keyring = \(cluster.directory.path)/keyring\n", with: "keyring = \(wrongKeyring.path)\n")
            .write(to: wrong, atomically: true, encoding: .utf8)
        try Self.definition(cluster: wrong.path, trusting: [key], motd: "two").write(to: file, atomically: true, encoding: .utf8)
        let denied = try DeployTests.imagec(["build", "systems/test001.swift"], in: folder, environment: hostA)
        #expect(denied.status == 0 && denied.output.contains("cannot be reached, building without it: cannot connect to the Ceph cluster"),
                "\(denied.output)")
    }
}
