import Foundation
import ImageBuild
import ImagecCore
import ImageDSL
import SwapLedger
import Targets

/// What each host of the ledger runs now, since when, whether it matches its definition,
/// and what it can roll back to: `imagec status`, and a status page.
public struct FleetStatus: Codable, Sendable {
    public var host: String
    /// The digest the host's target holds under its disk's name.
    public var runs: String?
    /// When the swap that put it there finished (ISO 8601, UTC).
    public var since: String?
    public var swap: Int64?
    /// The host's latest swap: `<id> <kind> <result>`.
    public var lastSwap: String
    /// The digest its definition builds now, when definitions were given.
    public var definition: String?
    /// Whether it runs something other than its definition builds.
    public var drift: Bool?
    /// The earlier images it can go back to, by name.
    public var rollbackTargets: [String]
    /// A bare-metal host's two root slots.
    public var slots: [SlotStatus]?

    /// Every host of `ledger`, by name; `wanted` maps host names to the digests their
    /// definitions build now. A target that cannot be read shows nothing running.
    public static func hosts(in ledger: Ledger, drivers: DeployDrivers, wanted: [String: ImageDigest] = [:]) throws -> [FleetStatus] {
        let swaps = try ledger.swaps()
        return Array(Set(swaps.map(\.host))).sorted().map { host in
            let latest = swaps.first { $0.host == host }!
            let target = try? drivers.target(for: latest.target, host: host)
            let installed = (try? target?.installed()) ?? nil
            let since = installed?.swap.flatMap { id in swaps.first { $0.id == id } }?.finished
            return FleetStatus(
                host: host, runs: installed?.digest, since: since.map { ISO8601DateFormatter().string(from: $0) }, swap: installed?.swap,
                lastSwap: "\(latest.id!) \(latest.kind.rawValue) \(latest.result.rawValue)", definition: wanted[host]?.description,
                drift: wanted[host].map { $0.description != installed?.digest },
                rollbackTargets: ((try? target?.generations()) ?? nil)?.map(\.name) ?? [],
                slots: (target as? BareMetalTarget)?.slotStatus(latest, system: drivers.access))
        }
    }

    /// The digest (`sha256:…`) each system of `definition` builds now, by host name.
    public static func wanted(by definition: DefinitionBuild) throws -> [String: ImageDigest] {
        var wanted: [String: ImageDigest] = [:]
        for system in definition.systems {
            let set = try definition.lock.set(for: system.model, lockFile: definition.lockFile)
            wanted[system.model.hostName] = try ImageBuilder.digest(of: system, set: set)
        }
        return wanted
    }
}
