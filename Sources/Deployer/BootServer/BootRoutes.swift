import Foundation
import ImagecCore

/// What `imagec serve` answers, request by request, from its state (no socket here: the
/// server feeds it requests and writes its responses):
///
/// - `GET /boot.ipxe`: chains to the machine's own script, by its MAC;
/// - `GET /boot/<mac>.ipxe`: the installer for a machine with a pending deploy, "boot from your
///   disk" for a known one, 404 for an unknown one (so none loops on the network boot);
/// - `GET /deploys/<token>/kernel`, `…/initramfs`: the installer, while the deploy is pending;
/// - `GET /deploys/<token>/plan.json`: the host, and how its root disk is found;
/// - `GET /deploys/<token>/slot-image.json`: the image's partition table and block indexes;
/// - `GET /deploys/<token>/disk`: the image's bytes, with range requests;
/// - `GET /deploys/<token>/identity`: the host's keys and machine ID, once;
/// - `POST /deploys/<token>/reports`: one `InstallerReport`.
public struct BootRoutes: Sendable {
    public var state: BootState

    public init(state: BootState) { self.state = state }

    /// A request, as far as the routes read it.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        /// `Host`, to name the server in the scripts it gives.
        public var host: String?
        public var range: String?
        public var body: Data

        public init(method: String, path: String, host: String? = nil, range: String? = nil, body: Data = Data()) {
            self.method = method
            self.path = path
            self.host = host
            self.range = range
            self.body = body
        }
    }

    /// A response: its status, and bytes or a part of a file.
    public struct Response: Sendable, Equatable {
        public enum Body: Sendable, Equatable {
            case bytes(Data)
            /// `range` of the file at `path`, whose length is `length`.
            case file(path: String, range: Range<Int>, length: Int)
        }

        public var status: Int
        public var contentType: String
        public var headers: [String: String]
        public var body: Body

        public var contentLength: Int {
            switch body {
            case .bytes(let data): data.count
            case .file(_, let range, _): range.count
            }
        }

        static func text(_ status: Int, _ text: String, type: String = "text/plain; charset=utf-8") -> Response {
            Response(status: status, contentType: type, headers: [:], body: .bytes(Data(text.utf8)))
        }
    }

    public func respond(to request: Request) -> Response {
        // iPXE escapes what it puts in a URL (a MAC's colons as %3A).
        let path = String(request.path.split(separator: "?", maxSplits: 1).first ?? "")
        let parts = (path.removingPercentEncoding ?? path).split(separator: "/").map(String.init)
        // HEAD is answered as GET (the server sends no body).
        switch (request.method == "HEAD" ? "GET" : request.method, parts.count) {
        case ("GET", 1) where parts[0] == "boot.ipxe":
            return .text(200, "#!ipxe\nchain --autofree \(base(request))/boot/${net0/mac:hexhyp}.ipxe\n")
        case ("GET", 2) where parts[0] == "boot" && parts[1].hasSuffix(".ipxe"):
            return script(mac: String(parts[1].dropLast(5)), request: request)
        case ("GET", 3) where parts[0] == "deploys":
            return deployFile(token: parts[1], name: parts[2], request: request)
        case ("POST", 3) where parts[0] == "deploys" && parts[2] == "reports":
            return report(token: parts[1], body: request.body)
        case (_, _) where !["GET", "HEAD", "POST"].contains(request.method):
            return .text(405, "\(request.method) is not served here\n")
        default:
            return .text(404, "nothing at \(request.path)\n")
        }
    }

    private func base(_ request: Request) -> String { "http://\(request.host ?? "127.0.0.1")" }

    private func script(mac: String, request: Request) -> Response {
        guard let mac = try? BootState.checked(mac: mac), let host = state.host(mac: mac) else {
            return .text(404, "#!ipxe\necho imagec: no machine has MAC \(mac.prefix(17)); nothing to boot here\nexit 1\n")
        }
        guard let deploy = state.pending(mac: mac) else {
            // A BIOS machine boots its first disk through iPXE, whatever boot order its firmware
            // kept; UEFI firmware, given control back, goes on to the disk.
            return .text(200, """
                #!ipxe
                echo imagec: \(host) has no deploy pending: booting from its disk
                iseq ${platform} pcbios && sanboot --no-describe --drive 0x80 ||
                exit

                """)
        }
        let server = base(request), files = "\(server)/deploys/\(deploy.token)"
        let arguments = (["initrd=initramfs", "imagec.server=\(server)", "imagec.token=\(deploy.token)"] + deploy.installer.arguments)
            .joined(separator: " ")
        return .text(200, """
            #!ipxe
            echo imagec: installing \(host)
            kernel \(files)/kernel \(arguments)
            initrd --name initramfs \(files)/initramfs
            boot

            """)
    }

    private func deployFile(token: String, name: String, request: Request) -> Response {
        guard let deploy = state.deploy(token: token) else { return .text(404, "no deploy has this token\n") }
        guard state.isOpen(deploy) else { return .text(410, "the deploy of \(deploy.host) is over\n") }
        let entry = ImageEntry(folder: URL(fileURLWithPath: deploy.entry))
        switch name {
        case "kernel": return file(deploy.installer.kernel, request: request)
        case "initramfs": return file(deploy.installer.initramfs, request: request)
        case "plan.json": return Response(status: 200, contentType: "application/json", headers: [:], body: .bytes(plan(deploy)))
        case "slot-image.json": return file(entry.slotImageFile.path, request: request, type: "application/json")
        case "disk": return file(entry.disk.path, request: request)
        case "identity":
            guard let archive = state.takeIdentity(of: deploy) else {
                return .text(410, "the identity of \(deploy.host) was handed over already\n")
            }
            return Response(status: 200, contentType: "application/json", headers: [:], body: .bytes(archive))
        default: return .text(404, "nothing at \(request.path)\n")
        }
    }

    /// `{"host": …, "rootDisk": {"serial" | "wwn" | "byPath": …}}`.
    private func plan(_ deploy: PendingDeploy) -> Data {
        let disk: [String: String] = switch deploy.rootDisk {
        case .serial(let serial): ["serial": serial]
        case .wwn(let wwn): ["wwn": wwn]
        case .byPath(let path): ["byPath": path]
        }
        let plan: [String: Any] = ["host": deploy.host, "rootDisk": disk]
        return (try? JSONSerialization.data(withJSONObject: plan, options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    private func file(_ path: String, request: Request, type: String = "application/octet-stream") -> Response {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return .text(404, "\(path) is missing\n") }
        let length = Int(info.st_size)
        var headers = ["Accept-Ranges": "bytes"]
        guard let header = request.range else {
            return Response(status: 200, contentType: type, headers: headers, body: .file(path: path, range: 0..<length, length: length))
        }
        guard let range = ByteRange(header: header)?.resolve(length: length) else {
            headers["Content-Range"] = "bytes */\(length)"
            return Response(status: 416, contentType: "text/plain; charset=utf-8", headers: headers,
                            body: .bytes(Data("the range '\(header)' is not one range within \(length) bytes\n".utf8)))
        }
        headers["Content-Range"] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(length)"
        return Response(status: 206, contentType: type, headers: headers, body: .file(path: path, range: range, length: length))
    }

    private func report(token: String, body: Data) -> Response {
        guard state.deploy(token: token) != nil else { return .text(404, "no deploy has this token\n") }
        guard let report = try? JSONDecoder().decode(InstallerReport.self, from: body) else {
            return .text(400, "the report is not an installer report (JSON)\n")
        }
        do {
            try state.append(report, token: token)
            // An installer that is done or has failed boots from the disk next, even if the
            // BMC still says network: the machine never loops on the installer.
            if report.kind == .done || report.kind == .failed { try state.finish(token: token) }
            return .text(204, "")
        } catch {
            return .text(500, "\(error)\n")
        }
    }
}
