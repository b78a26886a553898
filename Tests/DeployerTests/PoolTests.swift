import Foundation
@testable import Identity
@testable import Pools
import Testing

/// One test suite for both pools: the local directory pool and Ceph RBD on a real
/// single-node cluster (scripts/ceph-cluster) — push, dedupe, delta push, clone, metadata,
/// listing, removal; and the RBD faults: unknown pool, wrong key, no monitor, an OSD that stops.
@Suite(.serialized)
struct PoolTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A 256 MiB sparse raw image with data in a few places (random, so nothing dedupes by accident).
    static func image(at url: URL, seed: UInt8) throws {
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.truncate(atOffset: 256 << 20)
        var generator = SystemRandomNumberGenerator()
        for (offset, length) in [(0, 1 << 20), (10 << 20, 6 << 20), (100 << 20, 3 << 20), (255 << 20, 1 << 20)] {
            try handle.seek(toOffset: UInt64(offset))
            handle.write(Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) ^ seed }))
        }
    }

    /// A copy of `source` with `bytes` changed at `offset`.
    static func variant(of source: URL, at url: URL, offset: UInt64, bytes: Data) throws {
        try run("/bin/cp", ["--sparse=always", source.path, url.path])
        let handle = try FileHandle(forWritingTo: url)
        try handle.seek(toOffset: offset)
        handle.write(bytes)
        try handle.close()
    }

    static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        try process.start()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(executable) \(arguments.joined(separator: " ")) failed")
    }

    static func sameBytes(_ a: URL, _ b: URL) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/cmp")
        process.arguments = ["-s", a.path, b.path]
        try process.start()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// What every pool must do.
    func exercise(_ pool: some ImagePool, scratch: URL, makeLeftover: (String) throws -> Void) throws {
        let first = scratch.appendingPathComponent("first.raw")
        try Self.image(at: first, seed: 1)
        let metadata = [PoolMetadata.system: "node1", PoolMetadata.commit: "abc123", PoolMetadata.version: "0.1.0"]

        // A fresh push writes the data, not the holes.
        let pushed = try pool.push(PushRequest(file: first, name: "imagec_node1_202611231900", digest: "sha256:one", metadata: metadata, parent: nil)) { _ in }
        #expect(!pushed.reused)
        #expect(pushed.bytesWritten >= 11 << 20 && pushed.bytesWritten <= 24 << 20, "\(pushed.bytesWritten) bytes written for 11 MiB of data")
        #expect(pushed.image.size == 256 << 20 && pushed.image.digest == "sha256:one" && pushed.image.isBase)
        #expect(pushed.image.metadata[PoolMetadata.commit] == "abc123")
        let exported = scratch.appendingPathComponent("exported.raw")
        try pool.export(pushed.image.name, to: exported)
        #expect(try Self.sameBytes(first, exported), "the pool's image differs from the pushed file")

        // The same digest again: nothing written.
        let again = try pool.push(PushRequest(file: first, name: "imagec_node1_202611231901", digest: "sha256:one", metadata: metadata, parent: nil)) { _ in }
        #expect(again.reused && again.bytesWritten == 0 && again.image.name == pushed.image.name)

        // A variant (one 4 KiB block changed, one data chunk zeroed) over its parent writes a chunk or two.
        let second = scratch.appendingPathComponent("second.raw")
        try Self.variant(of: first, at: second, offset: 10 << 20, bytes: Data(repeating: 7, count: 4096))
        try Self.variant(of: second, at: second.appendingPathExtension("2"), offset: 100 << 20, bytes: Data(count: 3 << 20))
        try FileManager.default.removeItem(at: second)
        try FileManager.default.moveItem(at: second.appendingPathExtension("2"), to: second)
        var progressed = false
        let delta = try pool.push(PushRequest(file: second, name: "imagec_node2_202611231902", digest: "sha256:two",
                                              metadata: [PoolMetadata.system: "node2"], parent: pushed.image)) { _ in progressed = true }
        #expect(progressed)
        #expect(!delta.reused && delta.bytesWritten > 0 && delta.bytesWritten <= UInt64(RawImage.chunkSize),
                "\(delta.bytesWritten) bytes written for a one-block change")
        #expect(delta.image.parent == pushed.image.name && delta.image.metadata[PoolMetadata.depth] == "1")
        try pool.export(delta.image.name, to: exported)
        #expect(try Self.sameBytes(second, exported), "the delta image differs from its file")

        // A host's clone, listed with its metadata; a base with clones cannot go.
        let clone = try pool.clone(delta.image, as: "vm-127-disk-0", metadata: [PoolMetadata.host: "node2"])
        #expect(clone.parent == delta.image.name && clone.metadata[PoolMetadata.role] == "host" && clone.digest == "sha256:two")
        let listed = try pool.images()
        #expect(listed.map(\.name) == ["imagec_node1_202611231900", "imagec_node2_202611231902", "vm-127-disk-0"])
        #expect(listed.first { $0.name == "vm-127-disk-0" }?.metadata[PoolMetadata.host] == "node2")
        #expect(try pool.imageNames() == Set(listed.map(\.name)))
        // The image's SBOMs, pushed from its store entry, beside it; removed with it.
        let entry = scratch.appendingPathComponent("entry")
        try FileManager.default.createDirectory(at: entry, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: second, to: entry.appendingPathComponent("disk.raw"))
        try Data("{\"spdxVersion\": \"SPDX-2.3\"}".utf8).write(to: entry.appendingPathComponent("sbom.spdx.json"))
        try Data("{\"bomFormat\": \"CycloneDX\"}".utf8).write(to: entry.appendingPathComponent("sbom.cdx.json"))
        let withSBOM = try ImagePusher(pool: pool).push(entry.appendingPathComponent("disk.raw"), digest: "sha256:two", host: "node2",
                                                        prefix: "imagec", metadata: [:]) { _ in }
        #expect(withSBOM.reused && withSBOM.image.name == delta.image.name)
        #expect(try pool.attachment("sbom.spdx.json", of: delta.image.name) == Data("{\"spdxVersion\": \"SPDX-2.3\"}".utf8))
        #expect(try pool.attachment("sbom.cdx.json", of: delta.image.name) == Data("{\"bomFormat\": \"CycloneDX\"}".utf8))
        #expect(throws: PoolError.self) { try pool.remove(delta.image.name) }
        try pool.remove(clone.name)
        try pool.remove(delta.image.name)
        #expect(try pool.attachment("sbom.spdx.json", of: delta.image.name) == nil)
        #expect(try pool.images().map(\.name) == ["imagec_node1_202611231900"])
        #expect(try pool.leftovers() == [])

        // Generations: two more of node1, each over the last; a host runs a clone of the middle one.
        var previous = pushed.image
        var generations = [pushed.image]
        for (index, minute) in ["03", "04"].enumerated() {
            let next = scratch.appendingPathComponent("gen\(index).raw")
            try Self.variant(of: first, at: next, offset: UInt64(index + 1) << 20, bytes: Data(repeating: UInt8(index + 9), count: 4096))
            let result = try pool.push(PushRequest(file: next, name: "imagec_node1_2026112319\(minute)", digest: "sha256:gen\(index)",
                                                   metadata: [PoolMetadata.system: "node1", PoolMetadata.created: "2026-11-23T19:\(minute):00Z"],
                                                   parent: previous)) { _ in }
            generations.append(result.image)
            previous = result.image
        }
        _ = try pool.clone(generations[1], as: "vm-128-disk-0", metadata: [PoolMetadata.host: "node1"])
        // Keeping one: the latest stays, the clone's base and the images below both stay too.
        #expect(PoolCollector.garbage(in: try pool.images(), keep: 1).isEmpty)
        try pool.remove("vm-128-disk-0")
        let garbage = PoolCollector.garbage(in: try pool.images(), keep: 1)
        #expect(garbage.isEmpty, "the latest generation stands on the two before it: \(garbage.map(\.name))")
        // Leftovers of a dead push are found; a running one's are not.
        try makeLeftover("999999")
        try makeLeftover(String(getpid()))
        let leftovers = try pool.leftovers()
        #expect(leftovers.count == 2)
        let abandoned = PoolCollector.abandoned(leftovers)
        #expect(abandoned.count == 1 && abandoned[0].contains("999999"), "\(leftovers)")
        for name in leftovers { try pool.removeLeftover(name) }
        #expect(try pool.leftovers() == [])
    }

    /// Runs a program and returns its standard output.
    static func output(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.start()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Identity at deployment: a host's candidate is a clone with its keys and machine ID written
    /// in; two deployments (two clones) carry the same ones, another host gets its own; a clone
    /// whose image has no root file system fails and leaves nothing. The clones are read back
    /// with debugfs, not with the code that wrote them.
    func exerciseIdentity(_ pool: some ImagePool, scratch: URL) throws {
        let emulate = ProcessInfo.processInfo.environment["IMAGEC_ACCEL"] != "kvm"
        let root = scratch.appendingPathComponent("root.raw")
        FileManager.default.createFile(atPath: root.path, contents: nil)
        try Self.run("/sbin/mkfs.ext4", ["-q", "-F", "-L", "root", root.path, "64M"])
        let base = try pool.push(PushRequest(file: root, name: "imagec_node1_202611232100", digest: "sha256:root",
                                             metadata: [PoolMetadata.system: "node1"], parent: nil)) { _ in }.image
        let secrets = scratch.appendingPathComponent("secrets")
        let keys = HostKeys(directory: secrets)
        let pusher = ImagePusher(pool: pool)
        func identity(_ host: String) -> (DiskLocation) throws -> Void {
            { disk in try HostIdentity(host: host, secrets: keys).inject(into: disk, emulate: emulate) }
        }

        let first = try pusher.prepareCandidate(of: base, host: "node1", disk: "vm-1-disk-0",
                                                write: identity("node1"))
        #expect(first.name == "vm-1-disk-0_candidate" && first.parent == base.name && first.metadata[PoolMetadata.host] == "node1")
        try pool.rename(first.name, to: "vm-1-disk-0")  // as the swap does
        // The next deployment of node1, and node2's first.
        let second = try pusher.prepareCandidate(of: base, host: "node1", disk: "vm-1-disk-0",
                                                 write: identity("node1"))
        let other = try pusher.prepareCandidate(of: base, host: "node2", disk: "vm-2-disk-0",
                                                write: identity("node2"))

        func read(_ image: String, _ path: String) throws -> (contents: String, stat: String) {
            let raw = scratch.appendingPathComponent("\(image).raw")
            if !FileManager.default.fileExists(atPath: raw.path) { try pool.export(image, to: raw) }
            return (try Self.output("/sbin/debugfs", ["-R", "cat \(path)", raw.path]),
                    try Self.output("/sbin/debugfs", ["-R", "stat \(path)", raw.path]))
        }
        let key = "/etc/ssh/ssh_host_ed25519_key"
        let kept = try String(contentsOf: secrets.appendingPathComponent("hosts/node1/ssh_host_ed25519_key"), encoding: .utf8)
        for image in ["vm-1-disk-0", second.name] {
            let (contents, stat) = try read(image, key)
            #expect(contents == kept, "\(image) does not hold node1's kept private key")
            #expect(stat.contains("Mode:  0600") && stat.contains("User:     0"), "\(image): \(stat)")
            #expect(try read(image, key + ".pub").contents.hasPrefix("ssh-ed25519 "))
            #expect(try read(image, "/etc/machine-id").contents == (try keys.machineID(for: "node1")) + "\n")
        }
        #expect(try read(other.name, key).contents != kept && read(other.name, "/etc/machine-id").contents != read(second.name, "/etc/machine-id").contents)
        // The base is untouched.
        #expect(try read(base.name, key).contents.isEmpty)

        // An image without a root file system: an error, and no candidate under any name.
        let blank = scratch.appendingPathComponent("blank.raw")
        try Self.image(at: blank, seed: 3)
        let noRoot = try pool.push(PushRequest(file: blank, name: "imagec_node3_202611232101", digest: "sha256:blank",
                                               metadata: [PoolMetadata.system: "node3"], parent: nil)) { _ in }.image
        let before = try pool.images().map(\.name)
        #expect {
            _ = try pusher.prepareCandidate(of: noRoot, host: "node3", disk: "vm-3-disk-0",
                                            write: identity("node3"))
        } throws: { "\($0)".contains("no root file system") }
        #expect(try pool.images().map(\.name) == before && pool.leftovers().isEmpty)
        for name in [other.name, second.name, "vm-1-disk-0", base.name, noRoot.name] { try pool.remove(name) }
    }

    @Test func localPoolIdentity() throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        try exerciseIdentity(LocalPool(directory: scratch.appendingPathComponent("pool")), scratch: scratch)
    }

    @Test func rbdPoolIdentity() throws {
        let cluster = try CephCluster.start()
        defer { cluster.stop() }
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        try exerciseIdentity(RBDPool(configuration: cluster.configuration, pool: "rbd"), scratch: scratch)
    }

    @Test func localPool() throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let directory = scratch.appendingPathComponent("pool")
        try exercise(LocalPool(directory: directory), scratch: scratch) { pid in
            try Data().write(to: directory.appendingPathComponent(".tmp-imagec_node9_202611232000-\(pid).qcow2"))
        }
    }

    @Test func rbdPool() throws {
        let cluster = try CephCluster.start()
        defer { cluster.stop() }
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let pool = RBDPool(configuration: cluster.configuration, pool: "rbd")
        try exercise(pool, scratch: scratch) { pid in
            try pool.connect().create("\(RBDPool.temporaryPrefix)imagec_node9_202611232000_\(ProcessInfo.processInfo.hostName)_\(pid)", size: 1 << 20)
        }

        // The OSD stopped mid-upload, as an admin would: with the default client time limit,
        // an error within 60 s and no image under its final name; once the OSD is started
        // again, the next push succeeds and the leftover goes at once (its lock is broken).
        let big = scratch.appendingPathComponent("big.raw")
        try Self.image(at: big, seed: 5)
        var stopped: Date?
        let stall = #expect(throws: PoolError.self) {
            _ = try pool.push(PushRequest(file: big, name: "imagec_node5_202611232010", digest: "sha256:five", metadata: [:], parent: nil)) { step in
                if stopped == nil, step.written > 0 { try? cluster.stopOSD(); stopped = Date() }
            }
        }
        let waited = stopped.map { Date().timeIntervalSince($0) } ?? .infinity
        #expect(waited < 60 && stall?.timedOut == true, "\(String(describing: stall)) \(waited) s after the OSD stopped")
        try cluster.startOSD()
        #expect(try !pool.images().map(\.name).contains("imagec_node5_202611232010"))
        let retried = try pool.push(PushRequest(file: big, name: "imagec_node5_202611232011", digest: "sha256:five", metadata: [:], parent: nil)) { _ in }
        #expect(!retried.reused && retried.image.name == "imagec_node5_202611232011")
        let removing = Date()
        for leftover in try pool.leftovers() { try pool.removeLeftover(leftover) }
        #expect(Date().timeIntervalSince(removing) < 25, "removing the leftover waited for its dead writer (30 s) instead of breaking its lock")
        #expect(try pool.leftovers() == [])
        try pool.remove("imagec_node5_202611232011")

        // Faults: each a clear error within bounded time, nothing written.
        func failure(_ pool: RBDPool) -> (String, Double) {
            let started = Date()
            do { _ = try pool.images(); return ("no error", 0) } catch { return ("\(error)", Date().timeIntervalSince(started)) }
        }
        let (noPool, _) = failure(RBDPool(configuration: cluster.configuration, pool: "nosuchpool"))
        #expect(noPool.contains("has no pool 'nosuchpool'"), "\(noPool)")
        let badKeyring = scratch.appendingPathComponent("bad.keyring")
        try "[client.admin]\n\tkey = AQBbbbbbAAAAABAAZk5VOVlzZ0p0bUVXeGd1Q0pBPT0=\n".write(to: badKeyring, atomically: true, encoding: .utf8)
        let badConf = scratch.appendingPathComponent("bad.conf")
        try (try String(contentsOfFile: cluster.configuration, encoding: .utf8))
            .replacingOccurrences(of: "keyring = \(cluster.directory.path)/keyring", with: "keyring = \(badKeyring.path)")
            .write(to: badConf, atomically: true, encoding: .utf8)
        let (wrongKey, wrongKeySeconds) = failure(RBDPool(configuration: badConf.path, pool: "rbd", timeout: 5))
        #expect(wrongKey.contains("cannot connect to the Ceph cluster") && wrongKeySeconds < 15, "\(wrongKey) after \(wrongKeySeconds) s")
        let noMonitor = scratch.appendingPathComponent("nomon.conf")
        try "[global]\nmon host = 127.0.0.1:9\nkeyring = \(cluster.directory.path)/keyring\n".write(to: noMonitor, atomically: true, encoding: .utf8)
        let (unreachable, unreachableSeconds) = failure(RBDPool(configuration: noMonitor.path, pool: "rbd", timeout: 5))
        #expect(unreachable.contains("cannot connect") && unreachableSeconds < 15, "\(unreachable) after \(unreachableSeconds) s")
        #expect(try RBDPool(configuration: cluster.configuration, pool: "rbd").images().map(\.name)
            == ["imagec_node1_202611231900", "imagec_node1_202611231903", "imagec_node1_202611231904"])

        // A persistent volume's image, snapshotted before a swap: once, whatever the retries.
        try pool.connect().create("node1-data", size: 1 << 24)
        try pool.snapshotVolume("node1-data", as: DiskNames.volumeSnapshot(before: 7))
        try pool.snapshotVolume("node1-data", as: DiskNames.volumeSnapshot(before: 7))
        let snapshots = try Self.output("/usr/bin/rbd", ["-c", cluster.configuration, "snap", "ls", "rbd/node1-data"])
        #expect(snapshots.components(separatedBy: "imagec-swap-7").count == 2, "\(snapshots)")
        #expect(throws: PoolError.self) { try pool.snapshotVolume("node1-nodata", as: DiskNames.volumeSnapshot(before: 7)) }
    }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A throw-away Ceph cluster from scripts/ceph-cluster.
struct CephCluster {
    let directory: URL
    var configuration: String { directory.appendingPathComponent("ceph.conf").path }

    static func start() throws -> CephCluster {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-ceph-\(UUID().uuidString)")
        try PoolTests.run(PoolTests.repository.appendingPathComponent("scripts/ceph-cluster").path, ["start", directory.path])
        return CephCluster(directory: directory)
    }

    /// Stops the OSD cleanly (it keeps its data); clients' requests wait for it or time out.
    func stopOSD() throws {
        try PoolTests.run(PoolTests.repository.appendingPathComponent("scripts/ceph-cluster").path, ["stop-osd", directory.path])
    }

    /// Starts the OSD again and returns once it is up.
    func startOSD() throws {
        try PoolTests.run(PoolTests.repository.appendingPathComponent("scripts/ceph-cluster").path, ["start-osd", directory.path])
    }

    func stop() {
        try? PoolTests.run(PoolTests.repository.appendingPathComponent("scripts/ceph-cluster").path, ["stop", directory.path])
        try? FileManager.default.removeItem(at: directory)
    }
}
