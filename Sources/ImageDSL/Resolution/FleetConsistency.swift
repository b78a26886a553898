/// What must hold across systems, whether one file declares them or a whole `systems/`
/// folder does: no two with the same host name, the same static address, or the same
/// deployment target (the same pool disk, the same machine). Each clash is an error at the
/// later system's declaration, naming the first's file and line.
public enum FleetConsistency {
    /// The clashes among `systems`, in the order given (a clash is reported at the later one).
    public static func problems(_ systems: [SystemModel]) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        var claimed: [String: (system: String, at: SourceLocation)] = [:]
        func claim(_ key: String, by model: SystemModel, at declaration: String, _ message: (String, SourceLocation) -> String) {
            let location = place(of: declaration, in: model)
            if let first = claimed[key] {
                problems.append(Diagnostic(message(first.system, first.at), at: location))
            } else {
                claimed[key] = (model.hostName, location)
            }
        }
        for model in systems {
            claim("host name \(model.hostName)", by: model, at: "hostName") { _, first in
                "host name '\(model.hostName)' is declared by two systems (first at \(first))"
            }
            for interface in model.network.interfaces {
                for address in interface.addresses {
                    let ip = String(address.prefix { $0 != "/" })
                    guard let parsed = IPAddress(ip) else { continue }
                    claim("address \(parsed.bytes)", by: model, at: "interface:\(interface.name)") { other, first in
                        "address \(ip) of system '\(model.hostName)' is already system '\(other)'s (at \(first))"
                    }
                }
            }
            guard let deployment = model.deployment else { continue }
            // A bare-metal host's images are named by the host in its pool; a VM's disk is not.
            if !deployment.isBareMetal {
                claim("disk \(deployment.pool.identity)/\(deployment.disk)", by: model, at: "deployment") { other, first in
                    "system '\(model.hostName)' is deployed to disk '\(deployment.disk)' of \(deployment.pool.identity), "
                        + "as system '\(other)' is (at \(first)): one would overwrite the other"
                }
            }
            if let machine = deployment.machine {
                claim("machine \(machine.identity)", by: model, at: "deployment") { other, first in
                    "system '\(model.hostName)' is deployed to \(machine.identity), as system '\(other)' is (at \(first))"
                }
                if case .bareMetal(let metal) = machine {
                    claim("boot MAC \(metal.bootMAC)", by: model, at: "deployment") { other, first in
                        "system '\(model.hostName)' boots from MAC \(metal.bootMAC), as system '\(other)' does (at \(first))"
                    }
                }
            }
        }
        return problems
    }

    /// Where a clash is reported: the declaration itself when the system's file made it, the
    /// system's declaration when a template did (the template's line is the same for both).
    private static func place(of key: String, in model: SystemModel) -> SourceLocation {
        let system = model.location(of: "system") ?? .unknown
        guard let declared = model.sources?[key], declared.file == system.file else { return system }
        return declared
    }
}

extension Deployment.Pool {
    /// The pool as the place its images are: a cluster's pool (and namespace), or a folder.
    var identity: String {
        switch self {
        case .rbd(let pool, let namespace, _, let configuration):
            "RBD pool '\(pool)\(namespace.map { "/\($0)" } ?? "")' (\(configuration))"
        case .local(let directory): "local pool \(directory)"
        }
    }
}

extension Deployment.Machine {
    /// The machine as its hypervisor knows it.
    var identity: String {
        switch self {
        case .libvirt(let domain, let uri): "libvirt domain '\(domain)' at \(uri)"
        case .proxmoxVM(let vmid, _, let api, _): "Proxmox VM \(vmid) at \(api)"
        case .bareMetal(let machine): "the machine of BMC \(machine.bmc.description)"
        }
    }
}
