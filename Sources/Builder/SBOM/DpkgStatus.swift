import Foundation

/// The installed packages as dpkg records them (`/var/lib/dpkg/status` of an image's tree): what
/// an SBOM says of each beyond the lock — its maintainer, and the installed packages it
/// depends on.
public struct DpkgStatus: Sendable {
    public struct Package: Sendable, Equatable {
        public var name: String
        public var version: String
        public var architecture: String
        public var maintainer: String
        /// The installed packages it depends on (Depends and Pre-Depends; of alternatives, those installed).
        public var dependencies: [String]
    }

    /// Installed packages, by name.
    public var packages: [String: Package]

    /// Reads a status file; only packages in the `installed` state count.
    public init(text: String) {
        let stanzas = Deb822.paragraphs(text)
        let installed = stanzas.filter { $0["Status"]?.hasSuffix(" installed") == true && $0["Package"] != nil }
        let names = Set(installed.compactMap { $0["Package"] })
        var packages: [String: Package] = [:]
        for stanza in installed {
            let relations = [stanza["Pre-Depends"], stanza["Depends"]].compactMap { $0 }.joined(separator: ",")
            var dependencies: Set<String> = []
            for clause in relations.split(separator: ",") {
                // `a (>= 1) | b:any`: the installed alternatives.
                for alternative in clause.split(separator: "|") {
                    let name = alternative.trimmingCharacters(in: .whitespaces).prefix { $0 != " " && $0 != "(" && $0 != ":" }
                    if names.contains(String(name)) { dependencies.insert(String(name)) }
                }
            }
            let name = stanza["Package"]!
            dependencies.remove(name)
            packages[name] = Package(name: name, version: stanza["Version"] ?? "", architecture: stanza["Architecture"] ?? "",
                                     maintainer: stanza["Maintainer"] ?? "", dependencies: dependencies.sorted())
        }
        self.packages = packages
    }
}
