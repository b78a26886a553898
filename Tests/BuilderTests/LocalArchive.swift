import Foundation
import ImageBuild
import ImagecCore
import Packages

/// A Debian archive the test makes and serves on 127.0.0.1: `debian/` holds a signed suite
/// (`dists/bookworm`) over a pool laid out as the lock's paths say, and `archive/<name>/<time>/`
/// holds snapshots, served as the Debian snapshot service does: a time gives the newest
/// snapshot at or before it (by redirect), none before it a 404.
final class LocalArchive {
    let root: URL
    let suite: String
    let keyring: URL
    private let gnupg: URL
    private let server: Process
    let port: Int

    var uri: String { "http://127.0.0.1:\(port)/debian" }
    var snapshotTemplate: String { "http://127.0.0.1:\(port)/archive/{archive}/{timestamp}/" }
    var debian: URL { root.appendingPathComponent("debian") }

    static let serverScript = #"""
        import http.server, os, re, sys
        root = sys.argv[1]
        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=root, **kwargs)
            def do_GET(self):
                match = re.match(r'^/archive/([^/]+)/(\d{8}T\d{6}Z)/(.*)$', self.path)
                if match:
                    archive, time, rest = match.groups()
                    folder = os.path.join(root, 'archive', archive)
                    times = sorted(t for t in os.listdir(folder) if t <= time) if os.path.isdir(folder) else []
                    if not times:
                        self.send_error(404, 'no snapshot at or before ' + time)
                        return
                    if times[-1] != time:
                        self.send_response(302)
                        self.send_header('Location', '/archive/%s/%s/%s' % (archive, times[-1], rest))
                        self.end_headers()
                        return
                super().do_GET()
            def log_message(self, *args):
                pass
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#

    /// An archive of `packages` (each with its .deb file), served at once.
    init(_ packages: [(LockedPackage, URL)], suite: String = "bookworm") throws {
        root = try Support.temporaryDirectory()
        self.suite = suite
        gnupg = root.appendingPathComponent("gnupg")
        keyring = root.appendingPathComponent("keyring.gpg")
        try FileManager.default.createDirectory(at: gnupg, withIntermediateDirectories: true)
        chmod(gnupg.path, 0o700)
        _ = try Self.run("/usr/bin/gpg", ["--homedir", gnupg.path, "--batch", "--passphrase", "", "--quick-gen-key",
                                         "imagec test archive <archive@imagec.test>", "ed25519", "sign", "never"])
        try Self.run("/usr/bin/gpg", ["--homedir", gnupg.path, "--batch", "--export"]).write(to: keyring)

        let script = root.appendingPathComponent("server.py")
        try Self.serverScript.write(to: script, atomically: true, encoding: .utf8)
        server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = [script.path, root.path]
        let output = Pipe()
        server.standardOutput = output
        server.standardError = FileHandle.nullDevice
        try server.start()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            server.terminate()
            throw BuildEnvironmentError("the test archive's server did not start: \(line)")
        }
        self.port = port
        try publish(packages)
    }

    /// An archive of today's packages for the system of the definition `file`: locked against
    /// the build host's sources, fetched into the cache the tests share (through a store at
    /// `seed`). Returns it with the set and each package's .deb.
    static func today(for file: URL, seed: URL) throws -> (archive: LocalArchive, set: PackageLock.PackageSet, deb: (LockedPackage) -> URL) {
        let host = try Support.evaluator().evaluate(file.path)
        guard let set = try Locker().lock(host).lock.sets.first else { throw BuildEnvironmentError("no lock set for \(file.path)") }
        let store = try Support.store(seed)
        try DebCache(store: store).fetch(set, origins: ImageBuilder(store: store).packageOrigins(host.systems[0].model, set: set))
        let deb = { (package: LockedPackage) in DebCache(store: store).file(for: package) }
        return (try LocalArchive(set.packages.map { ($0, deb($0)) }), set, deb)
    }

    deinit {
        server.terminate()
        server.waitUntilExit()
        try? FileManager.default.removeItem(at: root)
    }

    /// Makes the suite hold exactly `packages`: the pool, the Packages index and a signed InRelease.
    func publish(_ packages: [(LockedPackage, URL)]) throws {
        try? FileManager.default.removeItem(at: debian)
        for (package, file) in packages { try Self.place(file, at: debian.appendingPathComponent(Self.decoded(package.path))) }
        let binary = debian.appendingPathComponent("dists/\(suite)/main/binary-amd64")
        try FileManager.default.createDirectory(at: binary, withIntermediateDirectories: true)
        try Self.run("/usr/bin/apt-ftparchive", ["packages", "pool"], in: debian).write(to: binary.appendingPathComponent("Packages"))
        let dists = debian.appendingPathComponent("dists/\(suite)")
        let release = try Self.run("/usr/bin/apt-ftparchive", [
            "-o", "APT::FTPArchive::Release::Suite=\(suite)", "-o", "APT::FTPArchive::Release::Codename=\(suite)",
            "-o", "APT::FTPArchive::Release::Components=main", "-o", "APT::FTPArchive::Release::Architectures=amd64", "release", ".",
        ], in: dists)
        try release.write(to: dists.appendingPathComponent("Release"))
        _ = try Self.run("/usr/bin/gpg", ["--homedir", gnupg.path, "--batch", "--yes", "--clearsign",
                                         "-o", dists.appendingPathComponent("InRelease").path, dists.appendingPathComponent("Release").path])
    }

    /// A snapshot of archive `name` taken at `time`, holding `packages` at their paths.
    func snapshot(_ packages: [(LockedPackage, URL)], archive name: String = "debian", at time: Int) throws {
        let folder = root.appendingPathComponent("archive/\(name)/\(PackageLock.Release.timestamp(time))")
        for (package, file) in packages { try Self.place(file, at: folder.appendingPathComponent(Self.decoded(package.path))) }
    }

    /// A lock's path names files as URIs do (`%2b` for `+`); the file on disk has the plain name.
    static func decoded(_ path: String) -> String { path.removingPercentEncoding ?? path }

    private static func place(_ file: URL, at target: URL) throws {
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: target)
        if link(file.resolvingSymlinksInPath().path, target.path) != 0 { try FileManager.default.copyItem(at: file, to: target) }
    }

    /// Runs a tool and returns what it printed on standard output; a failure is an error with its output.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], in folder: URL? = nil) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = folder }
        let output = Pipe(), errors = try Support.temporaryDirectory().appendingPathComponent("errors")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BuildEnvironmentError("\(executable) \(arguments.joined(separator: " ")) failed: \((try? String(contentsOf: errors, encoding: .utf8)) ?? "")")
        }
        return data
    }

    /// `package` as a new version (`+imagec1` appended) whose control file `edit` may change further.
    static func rebuild(_ package: LockedPackage, file: URL, in folder: URL, edit: (String) -> String = { $0 }) throws -> (LockedPackage, URL) {
        let tree = folder.appendingPathComponent("\(package.name)-tree")
        try? FileManager.default.removeItem(at: tree)
        try run("/usr/bin/dpkg-deb", ["-R", file.path, tree.path])
        let control = tree.appendingPathComponent("DEBIAN/control")
        let version = package.version + "+imagec1"
        let text = try String(contentsOf: control, encoding: .utf8)
            .replacingOccurrences(of: "\nVersion: \(package.version)\n", with: "\nVersion: \(version)\n")
        try edit(text).write(to: control, atomically: true, encoding: .utf8)
        let name = "\(package.name)_\(version)_\(package.architecture).deb"
        let built = folder.appendingPathComponent(name)
        try run("/usr/bin/dpkg-deb", ["--root-owner-group", "-b", tree.path, built.path])
        let data = try Data(contentsOf: built)
        var rebuilt = package
        rebuilt.version = version
        rebuilt.sha256 = CanonicalJSON.sha256(data)
        rebuilt.size = data.count
        rebuilt.path = (package.path as NSString).deletingLastPathComponent + "/" + name.replacingOccurrences(of: "+", with: "%2b")
        return (rebuilt, built)
    }
}
