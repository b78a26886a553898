import BootServer
import DefinitionEvaluation
import Foundation
import ImagecCore
import ImageDSL
import Testing

/// `imagec serve` (the command, in its own process) on 127.0.0.1, asked by curl as iPXE and the installer ask:
/// scripts by MAC, range requests on the image, the identity once, reports, and what a
/// finished deploy and a made-up token get.
struct BootServerTests {
    /// A state folder, a store entry with a disk of known bytes, and the server on a free port.
    final class Server: @unchecked Sendable {
        let folder: URL
        let state: BootState
        let entry: URL
        let server: ServeProcess
        var port: Int { server.port }

        init() async throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagec-serve-\(UUID().uuidString.prefix(8))")
            state = BootState(directory: folder.appendingPathComponent("state"))
            entry = folder.appendingPathComponent("store/0123-bigmem9")
            try FileManager.default.createDirectory(at: entry, withIntermediateDirectories: true)
            // 3 MiB and a bit, each byte its offset's low byte: any misplaced range shows.
            try Data((0..<(3 << 20) + 123).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: entry.appendingPathComponent("disk.raw"))
            try Data("{\"partitions\":[]}".utf8).write(to: entry.appendingPathComponent("slot-image.json"))
            try Data("KERNEL".utf8).write(to: folder.appendingPathComponent("vmlinuz"))
            try Data("INITRAMFS".utf8).write(to: folder.appendingPathComponent("initrd.img"))
            server = try ServeProcess(state: state)
        }

        func deploy(mac: String = "52:54:00:aa:00:09") throws -> PendingDeploy {
            let deploy = PendingDeploy(
                token: PendingDeploy.makeToken(), host: "bigmem9", mac: mac, swap: "swap-1", entry: entry.path,
                installer: InstallerBoot(kernel: folder.appendingPathComponent("vmlinuz").path,
                                         initramfs: folder.appendingPathComponent("initrd.img").path, arguments: ["console=ttyS0"]),
                rootDisk: .serial("IMAGEC-ROOT-9"))
            try state.begin(deploy, identity: Data("IDENTITY-TAR".utf8))
            return deploy
        }

        /// Status, headers and body of a request made by curl, which runs off the threads the
        /// server's tasks need.
        func get(_ path: String, headers: [String] = [], post: String? = nil) async throws -> (status: Int, headers: String, body: Data) {
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(with: Result { try self.curl(path, headers: headers, post: post) })
                }
            }
        }

        private func curl(_ path: String, headers: [String], post: String?) throws -> (status: Int, headers: String, body: Data) {
            let output = folder.appendingPathComponent("response-\(UUID().uuidString.prefix(6))")
            var arguments = ["-s", "-D", output.path + ".headers", "-o", output.path, "-w", "%{http_code}"]
            for header in headers { arguments += ["-H", header] }
            if let post { arguments += ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", post] }
            let status = try PoolTests.output("/usr/bin/curl", arguments + ["http://127.0.0.1:\(port)\(path)"])
            return (Int(status) ?? 0, (try? String(contentsOf: URL(fileURLWithPath: output.path + ".headers"), encoding: .utf8)) ?? "",
                    (try? Data(contentsOf: output)) ?? Data())
        }

        deinit {
            server.stop()
            try? FileManager.default.removeItem(at: folder)
        }
    }

    @Test func machinesGetTheirScriptByMAC() async throws {
        let server = try await Server()
        let unknown = try await server.get("/boot/52:54:00:aa:00:01.ipxe")
        #expect(unknown.status == 404)
        #expect(String(decoding: unknown.body, as: UTF8.self).contains("no machine has MAC 52:54:00:aa:00:01"))

        let chain = try await server.get("/boot.ipxe")
        #expect(chain.status == 200 && String(decoding: chain.body, as: UTF8.self)
            == "#!ipxe\nchain --autofree http://127.0.0.1:\(server.port)/boot/${net0/mac:hexhyp}.ipxe\n")
        // As iPXE asks for it: colons escaped.
        #expect(try await server.get("/boot/52%3A54%3A00%3Aaa%3A00%3A01.ipxe").status == 404)

        let deploy = try server.deploy()
        let script = String(decoding: try await server.get("/boot/52-54-00-AA-00-09.ipxe").body, as: UTF8.self)
        let files = "http://127.0.0.1:\(server.port)/deploys/\(deploy.token)"
        #expect(script.hasPrefix("#!ipxe\n"))
        #expect(script.contains("kernel \(files)/kernel initrd=initramfs imagec.server=http://127.0.0.1:\(server.port) imagec.token=\(deploy.token) console=ttyS0\n"))
        #expect(script.contains("initrd --name initramfs \(files)/initramfs\nboot\n"))
        #expect(try await server.get("/deploys/\(deploy.token)/kernel").body == Data("KERNEL".utf8))

        // Once the deploy is over, the machine boots from its disk, and its files are gone.
        try server.state.finish(token: deploy.token)
        let after = try await server.get("/boot/52:54:00:aa:00:09.ipxe")
        #expect(after.status == 200 && String(decoding: after.body, as: UTF8.self).hasSuffix("booting from its disk\niseq ${platform} pcbios && sanboot --no-describe --drive 0x80 ||\nexit\n"))
        #expect(try await server.get("/deploys/\(deploy.token)/disk").status == 410)
        #expect(try await server.get("/deploys/\(String(repeating: "0", count: 64))/disk").status == 404)
        #expect(try await server.get("/deploys/..%2F..%2Fetc/disk").status == 404)
    }

    @Test func theImageIsServedByRanges() async throws {
        let server = try await Server()
        let deploy = try server.deploy()
        let disk = try Data(contentsOf: server.entry.appendingPathComponent("disk.raw"))
        let path = "/deploys/\(deploy.token)/disk"

        let part = try await server.get(path, headers: ["Range: bytes=1048570-2097160"])
        #expect(part.status == 206)
        #expect(part.headers.contains("Content-Range: bytes 1048570-2097160/\(disk.count)"))
        #expect(part.body == disk[1_048_570...2_097_160])
        let tail = try await server.get(path, headers: ["Range: bytes=-100"])
        #expect(tail.status == 206 && tail.body == disk.suffix(100))
        let open = try await server.get(path, headers: ["Range: bytes=\(disk.count - 5)-"])
        #expect(open.status == 206 && open.body == disk.suffix(5))
        let whole = try await server.get(path)
        #expect(whole.status == 200 && whole.body == disk && whole.headers.contains("Accept-Ranges: bytes"))

        let beyond = try await server.get(path, headers: ["Range: bytes=\(disk.count)-"])
        #expect(beyond.status == 416 && beyond.headers.contains("Content-Range: bytes */\(disk.count)"))
        #expect(try await server.get(path, headers: ["Range: bytes=0-1,5-6"]).status == 416)
        #expect(try await server.get("/deploys/\(deploy.token)/slot-image.json").body == Data("{\"partitions\":[]}".utf8))
    }

    @Test func theIdentityIsHandedOverOnceAndReportsAreKept() async throws {
        let server = try await Server()
        let deploy = try server.deploy()
        let first = try await server.get("/deploys/\(deploy.token)/identity")
        #expect(first.status == 200 && first.body == Data("IDENTITY-TAR".utf8))
        let second = try await server.get("/deploys/\(deploy.token)/identity")
        #expect(second.status == 410)

        let reports = "/deploys/\(deploy.token)/reports"
        #expect(try await server.get(reports, post: #"{"kind":"step","step":"write slot","slot":"b"}"#).status == 204)
        #expect(try await server.get(reports, post: #"{"kind":"progress","step":"write slot","fetched":65536,"written":131072,"total":4194304}"#).status == 204)
        #expect(try await server.get(reports, post: "not json").status == 400)
        #expect(try await server.get("/deploys/\(String(repeating: "a", count: 64))/reports", post: #"{"kind":"done"}"#).status == 404)
        #expect(server.state.reports(token: deploy.token) == [
            InstallerReport(kind: .step, step: "write slot", slot: "b"),
            InstallerReport(kind: .progress, step: "write slot", fetched: 65536, written: 131072, total: 4_194_304),
        ])
    }
}

/// `imagec serve --listen 127.0.0.1:0` in its own process (as the lab runs it: a test's
/// threads, blocked on builds and guests, cannot starve it), on the port it chose.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let port: Int

    /// `imagec serve` on `port` of 127.0.0.1 (0: a free one).
    init(state: BootState, port: Int = 0) throws {
        process.executableURL = DSLToolchain.currentExecutable.deletingLastPathComponent().appendingPathComponent("imagec")
        process.arguments = ["serve", "--listen", "127.0.0.1:\(port)", "--quiet"]
        process.environment = ProcessInfo.processInfo.environment.merging(["IMAGEC_BOOT_STATE": state.directory.path]) { $1 }
        let error = Pipe()
        process.standardError = error
        process.standardOutput = FileHandle.nullDevice
        try process.start()
        // "imagec serve: listening on 127.0.0.1:PORT, state in …"
        var text = ""
        while !text.contains(", state in"), process.isRunning {
            let data = error.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard let match = text.firstMatch(of: /listening on 127\.0\.0\.1:(\d+)/), let port = Int(match.1) else {
            process.terminate()
            throw BootServerError("imagec serve did not start: \(text)")
        }
        self.port = port
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// Killed at once, in the middle of whatever it sends.
    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
