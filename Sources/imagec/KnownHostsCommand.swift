import ArgumentParser
import DefinitionEvaluation
import Foundation
import Identity
import ImageDSL

/// `imagec known-hosts`: the known_hosts lines of every host, from their stable keys.
struct KnownHostsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "known-hosts",
        abstract: "Print known_hosts lines for every host of the given definitions.",
        discussion: """
            Each host's SSH host keys are made once and kept in the secrets directory \
            ($IMAGEC_SECRETS, default /var/lib/imagec/secrets; mode 0700) and written into its \
            disk at each deployment, so these lines stay true across reinstalls. A host is named \
            by its host name, its name in its first search domain and its static addresses. With \
            --ca, each host key is signed by the lab's CA and a single @cert-authority line is printed.
            """)

    @Argument(help: "System definition files.")
    var files: [String]

    @Option(name: .long, help: "Key types: ed25519, ecdsa, rsa (repeatable).")
    var type: [String] = ["ed25519"]

    @Option(name: .long, help: "The lab's SSH certificate authority key: sign every host key with it.")
    var ca: String?

    @Option(name: .long, help: "With --ca: the host pattern of the @cert-authority line.")
    var caHosts = "*"

    func validate() throws {
        for type in type where !["ed25519", "ecdsa", "rsa"].contains(type) {
            throw ValidationError("--type: '\(type)' is not a host key type: give ed25519, ecdsa or rsa")
        }
    }

    func run() throws {
        let keys = HostKeys()
        var lines: [String] = []
        for file in files {
            for system in try Evaluator.standard().evaluate(file).systems {
                let model = system.model
                var names = [model.hostName]
                if let domain = model.network.searchDomains.first { names.append("\(model.hostName).\(domain)") }
                names += model.network.interfaces.flatMap(\.addresses).map { String($0.prefix { $0 != "/" }) }
                if let ca {
                    _ = try keys.certify(host: model.hostName, names: names, authority: URL(fileURLWithPath: ca), types: type)
                } else {
                    lines += try keys.knownHostsLines(for: model.hostName, names: names, types: type)
                }
            }
        }
        if let ca {
            let authority = try String(contentsOfFile: ca + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            lines = ["@cert-authority \(caHosts) \(authority)"]
        }
        Swift.print(lines.joined(separator: "\n"))
    }
}
