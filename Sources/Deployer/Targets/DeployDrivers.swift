import BMC
import BootServer
import Foundation
import Hypervisors
import Identity
import ImagecCore
import ImageDSL
import Pools

/// The drivers deploying talks to, injected: the pool a deployment names, the machine's
/// hypervisor or BMC, the tool that writes a host's identity into a disk (or hands it to the
/// network installer), `imagec serve`'s state, and how the running system is reached.
/// ``standard(secrets:emulate:)`` holds the real ones; tests give fakes.
public struct DeployDrivers: Sendable {
    public var pool: @Sendable (Deployment.Pool) throws -> any ImagePool
    public var hypervisor: @Sendable (Deployment.Machine) throws -> any Hypervisor
    public var writeIdentity: @Sendable (HostIdentity, DiskLocation) throws -> Void
    public var access: any HostAccess
    /// A bare-metal machine's BMC.
    public var bmc: @Sendable (BaseboardManagement) throws -> any BaseboardController
    /// Where `imagec serve` reads the deploys of bare-metal machines.
    public var bootState: BootState
    /// A host's identity as the network installer receives it.
    public var installerIdentity: @Sendable (String) throws -> Data
    /// How bare-metal machines take their images: in place when they answer, or through the network.
    public var bareMetalVia = BareMetalTarget.Via.automatic
    /// Seconds the hardware watchdog of a bare-metal machine switched in place gives the kexec and
    /// the boot after it.
    public var bareMetalWatchdogTimeout = 300

    public init(pool: @escaping @Sendable (Deployment.Pool) throws -> any ImagePool,
                hypervisor: @escaping @Sendable (Deployment.Machine) throws -> any Hypervisor,
                writeIdentity: @escaping @Sendable (HostIdentity, DiskLocation) throws -> Void,
                access: any HostAccess,
                bmc: @escaping @Sendable (BaseboardManagement) throws -> any BaseboardController = BaseboardControllers.controller(for:),
                bootState: BootState = .standard,
                installerIdentity: @escaping @Sendable (String) throws -> Data = { try HostIdentity(host: $0).installerDocument }) {
        self.pool = pool
        self.hypervisor = hypervisor
        self.writeIdentity = writeIdentity
        self.access = access
        self.bmc = bmc
        self.bootState = bootState
        self.installerIdentity = installerIdentity
    }

    /// RBD or local pools, libvirt or Proxmox machines, libguestfs (under TCG when `emulate`)
    /// for identities, SSH with the keys of `secrets`.
    public static func standard(secrets: HostKeys = HostKeys(), emulate: Bool) -> DeployDrivers {
        DeployDrivers(
            pool: { pool in
                switch pool {
                case .rbd(let pool, let namespace, let client, let configuration):
                    RBDPool(configuration: configuration, client: client, pool: pool, namespace: namespace)
                case .local(let directory):
                    LocalPool(directory: URL(fileURLWithPath: directory))
                }
            },
            hypervisor: { machine in
                switch machine {
                case .libvirt(let domain, let uri):
                    LibvirtHypervisor(uri: uri, domain: domain)
                case .proxmoxVM(let vmid, let node, let api, let tokenFile):
                    try ProxmoxHypervisor(api: api, node: node, vmid: vmid, tokenFile: tokenFile)
                case .bareMetal:
                    throw DeployError("a bare-metal machine has no hypervisor: it is reinstalled through its BMC")
                }
            },
            writeIdentity: { identity, disk in try identity.inject(into: disk, emulate: emulate) },
            access: SSHHostAccess(secrets: secrets),
            installerIdentity: { host in try HostIdentity(host: host, secrets: secrets).installerDocument })
    }

    /// The target `deployment` names for `host`: a disk swap of its virtual machine, or a
    /// bare-metal machine's root slot written by the network installer.
    public func target(for deployment: Deployment, host: String, stopTimeout: Double = 120,
                       progress: ProgressReporter = .silent) throws -> any DeployTarget {
        guard let machine = deployment.machine else {
            throw DeployError("\(host)'s Deployment names no machine (machine: .libvirt(…) or .proxmox(…))")
        }
        if case .bareMetal(let bareMetal) = machine {
            let identity = installerIdentity
            var target = BareMetalTarget(host: host, machine: bareMetal, controller: try bmc(bareMetal.bmc), bootState: bootState,
                                         identity: { try identity(host) }, progress: progress)
            target.via = bareMetalVia
            target.watchdogTimeout = bareMetalWatchdogTimeout
            return target
        }
        return DiskSwapTarget(pool: try pool(deployment.pool), machine: try hypervisor(machine), disk: deployment.disk,
                              prefix: deployment.prefix, shutdown: deployment.shutdown, stopTimeout: stopTimeout,
                              writeIdentity: writeIdentity, progress: progress)
    }
}
