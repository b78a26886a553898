import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// `imagec serve`: the HTTP server a lab runs on its admin host, where machines' iPXE ROMs and
/// installers come for their scripts, images and identities (``BootRoutes``). Files are sent
/// in pieces of a MiB as the client takes them, so a slow installer holds no more than that.
public struct BootServer: Sendable {
    public var routes: BootRoutes
    public var host: String
    public var port: Int
    /// Called with each request's line and status, as `GET /boot/52:54:00:12:34:56.ipxe 200`.
    public var log: @Sendable (String) -> Void

    public init(routes: BootRoutes, host: String, port: Int, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.routes = routes
        self.host = host
        self.port = port
        self.log = log
    }

    /// Listens, calls `listening` with the port (the one given, or the one chosen for port 0),
    /// and serves until the task is cancelled.
    public func run(listening: @Sendable (Int) -> Void = { _ in }) async throws {
        let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw BootServerError("cannot listen on \(host):\(port): \(error)")
        }
        listening(server.channel.localAddress?.port ?? port)
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask { await serve(connection) }
                }
            }
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = Data()
            for try await part in inbound {
                switch part {
                case .head(let request):
                    head = request
                    body = Data()
                case .body(let buffer):
                    // Reports are small: anything larger is not one.
                    guard body.count + buffer.readableBytes <= 1 << 20 else { return }
                    body.append(contentsOf: buffer.readableBytesView)
                case .end:
                    guard let request = head else { continue }
                    let response = routes.respond(to: BootRoutes.Request(
                        method: request.method.rawValue, path: request.uri, host: request.headers.first(name: "host"),
                        range: request.headers.first(name: "range"), body: body))
                    log("\(request.method.rawValue) \(request.uri) \(response.status)")
                    try await write(response, for: request, to: outbound)
                    if !request.isKeepAlive { return }
                }
            }
        }
    }

    private func write(_ response: BootRoutes.Response, for request: HTTPRequestHead,
                       to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.contentLength))
        for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: name, value: value) }
        if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
        try await outbound.write(.head(HTTPResponseHead(version: request.version, status: .init(statusCode: response.status), headers: headers)))
        if request.method != .HEAD {
            switch response.body {
            case .bytes(let data):
                if !data.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: data)))) }
            case .file(let path, let range, _):
                try await send(path, range: range, to: outbound)
            }
        }
        try await outbound.write(.end(nil))
    }

    /// Sends `range` of the file at `path`, a MiB at a time.
    private func send(_ path: String, range: Range<Int>, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BootServerError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var position = range.lowerBound
        while position < range.upperBound {
            let count = min(1 << 20, range.upperBound - position)
            var buffer = ByteBuffer()
            let read = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { pointer in
                let result = pread(descriptor, pointer.baseAddress, count, off_t(position))
                guard result > 0 else { throw BootServerError("cannot read \(path) at byte \(position)") }
                return result
            }
            position += read
            try await outbound.write(.body(.byteBuffer(buffer)))
        }
    }
}
