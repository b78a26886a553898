import Foundation
import ImagecCore
import ImageDSL

/// apt with a configuration of its own: its own sources, lists and an empty dpkg status, for
/// one distribution release and architecture. Resolving packages never reads or changes the
/// host's apt state; only the host's trusted keys are used.
struct PrivateApt {
    let root: URL
    let sources: [AptSource]
    let architecture: Architecture

    init(root: URL, sources: [AptSource], architecture: Architecture) throws {
        self.root = root
        self.sources = sources
        self.architecture = architecture
        let manager = FileManager.default
        for folder in ["etc/apt/sources.list.d", "etc/apt/preferences.d", "etc/apt/apt.conf.d",
                       "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg"] {
            try manager.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try Data().write(to: root.appendingPathComponent("var/lib/dpkg/status"))
        let stanzas = sources.map { source in
            var lines = ["Types: deb", "URIs: \(source.uris.joined(separator: " "))", "Suites: \(source.suites.joined(separator: " "))"]
            if !source.components.isEmpty { lines.append("Components: \(source.components.joined(separator: " "))") }
            if let signedBy = source.signedBy { lines.append("Signed-By: \(signedBy)") }
            return lines.joined(separator: "\n")
        }
        try (stanzas.joined(separator: "\n\n") + "\n")
            .write(to: root.appendingPathComponent("etc/apt/sources.list.d/imagec.sources"), atomically: true, encoding: .utf8)
        let configuration = """
            Dir "\(root.path)/";
            Dir::Etc::Trusted "/etc/apt/trusted.gpg";
            Dir::Etc::TrustedParts "/etc/apt/trusted.gpg.d/";
            Dir::State::status "\(root.path)/var/lib/dpkg/status";
            APT::Architecture "\(architecture.rawValue)";
            APT::Architectures { "\(architecture.rawValue)"; };
            APT::Install-Recommends "false";
            Acquire::ForceHash "SHA256";
            Acquire::Languages "none";
            Debug::NoLocking "true";

            """
        try configuration.write(to: configurationFile, atomically: true, encoding: .utf8)
    }

    var configurationFile: URL { root.appendingPathComponent("apt.conf") }

    func run(_ arguments: [String], workingDirectory: URL? = nil, timeout: Double = 1800) throws -> Command.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["APT_CONFIG"] = configurationFile.path
        environment["LC_ALL"] = "C"
        return try Command(
            executable: "/usr/bin/apt-get", arguments: arguments, environment: environment, workingDirectory: workingDirectory
        ).run(timeout: timeout, outputFile: root.appendingPathComponent("apt-output.txt"))
    }

    /// Downloads the package lists; an unreachable or incomplete source is an error naming it.
    func update() throws {
        let result = try run(["update", "-q"])
        // apt prints "Err:1 URI SUITE InRelease" and, indented on the next line, why.
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        var failures: [String] = []
        for (index, line) in lines.enumerated() where line.hasPrefix("Err:") || (line.hasPrefix("E:") && failures.isEmpty) {
            let source = line.split(separator: " ").dropFirst().joined(separator: " ")
            let reason = lines.indices.contains(index + 1) && lines[index + 1].hasPrefix(" ")
                ? ": " + lines[index + 1].trimmingCharacters(in: .whitespaces) : ""
            failures.append(line.hasPrefix("E:") ? String(line.dropFirst(3)) : "cannot reach the apt source \(source)\(reason)")
        }
        guard result.status == 0, failures.isEmpty else {
            throw BuildEnvironmentError(failures.isEmpty ? "apt-get update failed:\n\(result.output)" : failures.joined(separator: "\n"))
        }
    }

    /// The package lists apt downloaded.
    var packageLists: [URL] {
        let lists = root.appendingPathComponent("var/lib/apt/lists")
        return ((try? FileManager.default.contentsOfDirectory(atPath: lists.path)) ?? [])
            .filter { $0.hasSuffix("_Packages") }.sorted().map { lists.appendingPathComponent($0) }
    }

    /// Each source's Release file, named by its archive (the URI's last part) and suite,
    /// with its `Date:`, read from the lists apt downloaded (`<uri>_dists_<suite>_InRelease`).
    func releases() -> [PackageLock.Release] {
        let lists = root.appendingPathComponent("var/lib/apt/lists")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        var releases: [PackageLock.Release] = []
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: lists.path)) ?? []).sorted()
        where name.hasSuffix("_InRelease") || name.hasSuffix("_Release") {
            guard let dists = name.range(of: "_dists_"),
                  let text = try? String(contentsOf: lists.appendingPathComponent(name), encoding: .utf8),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Date: ") }),
                  let date = formatter.date(from: String(line.dropFirst(6)))
            else { continue }
            let uri = name[..<dists.lowerBound]
            let archive = uri.contains("_") ? String(uri.split(separator: "_").last!) : ""
            let suite = name[dists.upperBound...].replacingOccurrences(of: "_InRelease", with: "")
                .replacingOccurrences(of: "_Release", with: "").replacingOccurrences(of: "_", with: "/")
            releases.append(PackageLock.Release(
                archive: archive.removingPercentEncoding ?? archive, suite: suite, date: Int(date.timeIntervalSince1970)))
        }
        return releases.sorted { ($0.archive, $0.suite) < ($1.archive, $1.suite) }
    }

    /// Pins each package to its version (apt preferences with priority 1001) for the
    /// resolutions that follow; an empty list removes the pins.
    func pin(_ packages: [LockedPackage]) throws {
        let text = packages.map { "Package: \($0.name)\nPin: version \($0.version)\nPin-Priority: 1001\n" }.joined(separator: "\n")
        try text.write(to: root.appendingPathComponent("etc/apt/preferences.d/imagec-lock.pref"), atomically: true, encoding: .utf8)
    }

    /// Every package (with its dependencies) that installing `names` on an empty system
    /// downloads, with exact versions and SHA-256.
    func resolve(_ names: [String]) throws -> [LockedPackage] {
        // `-q`, not `-qq`: only then does apt say which dependencies it could not meet.
        let result = try run(["install", "--print-uris", "-q", "-y", "--no-install-recommends"] + names)
        guard result.status == 0 else {
            let lines = result.output.split(separator: "\n")
            let start = lines.firstIndex { $0.contains("unmet dependencies") || $0.hasPrefix("E:") } ?? lines.startIndex
            let errors = lines[start...].filter { !$0.hasPrefix("'") }
            throw BuildEnvironmentError("apt cannot install the package set:\n  " + errors.joined(separator: "\n  "))
        }
        return try result.output.split(separator: "\n").filter { $0.hasPrefix("'") }.map { line in
            guard let package = LockedPackage(printedURI: String(line), sources: sources) else {
                throw BuildEnvironmentError("cannot read apt's answer: \(line)")
            }
            return package
        }.sorted { $0.name < $1.name }
    }
}
