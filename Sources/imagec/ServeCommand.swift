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

    func validate() throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port),
              colon > listen.startIndex else {
            throw ValidationError("--listen: '\(listen)' is not ADDRESS:PORT, such as 0.0.0.0:8069")
        }
    }

    func run() async throws {
        let colon = listen.lastIndex(of: ":")!
        let host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let port = Int(listen[listen.index(after: colon)...])!
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
