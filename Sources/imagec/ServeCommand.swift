import ArgumentParser
import BootServer
import Foundation

/// `imagec serve`: the boot server physical machines reinstall from.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve iPXE scripts, installers and images to the physical machines being deployed.",
        discussion: """
            Run on the admin host, where `imagec deploy` runs (contrib/imagec-serve.service). \
            A machine's DHCP server points its iPXE ROM at http://HOST:PORT/boot.ipxe; it is then \
            given its own script by its MAC: the installer while a deploy of it is pending, \
            "boot from your disk" otherwise, and nothing (404) if imagec does not know it. \
            State is read from $IMAGEC_BOOT_STATE (default /var/lib/imagec/boot-server) at every \
            request, so the server can be restarted at any time.
            """)

    @Option(name: .long, help: "Address and port to listen on.")
    var listen = "0.0.0.0:8069"

    @Flag(name: .shortAndLong, help: "Print no request log.")
    var quiet = false

    /// `--listen` as host and port; `nil` if it is not ADDRESS:PORT.
    private var address: (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), colon > listen.startIndex,
              let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        return (String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
    }

    func validate() throws {
        guard address != nil else { throw ValidationError("--listen: '\(listen)' is not ADDRESS:PORT, such as 0.0.0.0:8069") }
    }

    func run() async throws {
        let (host, port) = address!
        let state = BootState.standard
        let quiet = quiet
        let server = BootServer(routes: BootRoutes(state: state), host: host, port: port) { line in
            if !quiet { FileHandle.standardError.write(Data("\(line)\n".utf8)) }
        }
        try await server.run { port in
            FileHandle.standardError.write(Data("imagec serve: listening on \(host):\(port), state in \(state.directory.path)\n".utf8))
        }
    }
}
