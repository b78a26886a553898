import Foundation
import GRDB
import ImageDSL

/// The fleet's durable record of every root-disk swap (SQLite, through GRDB): who put which
/// digest on which host's disk, when, and how it ended. Each step's intent is written before
/// the step is taken, so a swap interrupted anywhere (SIGKILL, power loss) can be finished
/// or reverted from what the ledger says.
///
/// `$IMAGEC_LEDGER`, else `/var/lib/imagec/ledger.sqlite`.
public final class Ledger: Sendable {
    private let database: DatabaseQueue
    public let path: URL

    public static var defaultPath: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["IMAGEC_LEDGER"] ?? "/var/lib/imagec/ledger.sqlite")
    }

    public init(path: URL = Ledger.defaultPath) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)  // several imagec runs share one ledger
        do {
            try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
            database = try DatabaseQueue(path: path.path, configuration: configuration)
            try Self.migrator.migrate(database)
        } catch {
            throw LedgerError("cannot open the deployment ledger \(path.path): \(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "swap") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("kind", .text).notNull()
                table.column("host", .text).notNull().indexed()
                table.column("machine", .text).notNull()
                table.column("pool", .text).notNull()
                table.column("disk", .text).notNull()
                table.column("incoming", .text).notNull()
                table.column("outgoing", .text).notNull()
                table.column("digest", .text).notNull()
                table.column("previousDigest", .text)
                table.column("commit", .text).notNull()
                table.column("user", .text).notNull()
                table.column("forced", .boolean).notNull()
                table.column("started", .datetime).notNull()
                table.column("finished", .datetime)
                table.column("step", .text).notNull()
                table.column("stepDone", .boolean).notNull()
                table.column("result", .text).notNull()
                table.column("failure", .text)
                table.column("swapSeconds", .double)
                table.column("stopSeconds", .double)
                table.column("healthySeconds", .double)
                table.column("target", .jsonText).notNull()
                table.column("checks", .jsonText).notNull()
                table.column("ssh", .text).notNull()
                table.column("volumes", .jsonText).notNull()
            }
            try db.create(table: "step") { table in
                table.autoIncrementedPrimaryKey("id")
                table.belongsTo("swap", onDelete: .cascade).notNull()
                table.column("step", .text).notNull()
                table.column("state", .text).notNull()  // intent, done
                table.column("at", .datetime).notNull()
            }
        }
        return migrator
    }

    /// Records a new swap (its first step, `prepare`, intended) and returns it with its id.
    public func begin(_ swap: SwapRecord) throws -> SwapRecord {
        try database.write { db in
            var record = swap
            try record.insert(db)
            var step = StepRecord(swapId: record.id!, step: record.step.rawValue, state: "intent", at: Date())
            try step.insert(db)
            return record
        }
    }

    /// Writes that `step` is about to be taken.
    public func intend(_ step: SwapStep, of id: Int64) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE swap SET step = ?, stepDone = 0 WHERE id = ?", arguments: [step.rawValue, id])
            var record = StepRecord(swapId: id, step: step.rawValue, state: "intent", at: Date())
            try record.insert(db)
        }
    }

    /// Writes that `step` was taken.
    public func done(_ step: SwapStep, of id: Int64) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE swap SET stepDone = 1 WHERE id = ? AND step = ?", arguments: [id, step.rawValue])
            var record = StepRecord(swapId: id, step: step.rawValue, state: "done", at: Date())
            try record.insert(db)
        }
    }

    /// Writes how the swap ended.
    public func finish(_ id: Int64, result: SwapResult, failure: String? = nil, swapSeconds: Double? = nil, healthySeconds: Double? = nil) throws {
        try database.write { db in
            // How long the stop step took, from its intent and completion.
            let times = try StepRecord.filter(Column("swapId") == id && Column("step") == SwapStep.stop.rawValue).order(Column("id")).fetchAll(db)
            let stop = times.last { $0.state == "done" }.flatMap { done in times.last { $0.state == "intent" }.map { done.at.timeIntervalSince($0.at) } }
            try db.execute(
                sql: "UPDATE swap SET result = ?, failure = ?, finished = ?, swapSeconds = COALESCE(?, swapSeconds), healthySeconds = COALESCE(?, healthySeconds), stopSeconds = ? WHERE id = ?",
                arguments: [result.rawValue, failure, Date(), swapSeconds, healthySeconds, stop, id])
        }
    }

    /// Swaps of `host` (every host when nil), newest first.
    public func swaps(of host: String? = nil) throws -> [SwapRecord] {
        try database.read { db in
            var request = SwapRecord.order(Column("id").desc)
            if let host { request = request.filter(Column("host") == host) }
            return try request.fetchAll(db)
        }
    }

    /// The swap with this id.
    public func swap(_ id: Int64) throws -> SwapRecord? {
        try database.read { db in try SwapRecord.fetchOne(db, key: id) }
    }

    /// Swaps that never finished (their process died), oldest first.
    public func unfinished(of host: String? = nil) throws -> [SwapRecord] {
        try swaps(of: host).filter { $0.result == .running }.reversed()
    }

    /// The steps a swap went through, in order: (step, `intent` or `done`, when).
    public func steps(of id: Int64) throws -> [(String, String, Date)] {
        try database.read { db in
            try StepRecord.filter(Column("swapId") == id).order(Column("id")).fetchAll(db).map { ($0.step, $0.state, $0.at) }
        }
    }
}

/// What a swap is for.
public enum SwapKind: String, Codable, Sendable {
    /// A new image (`imagec deploy`).
    case deploy
    /// An earlier image back (`imagec rollback`, or a deploy's failed health check).
    case rollback
}

/// A step of a swap, recorded as intended before it is taken and as done after. Every swap
/// begins with ``prepare`` (the incoming image made ready: nothing on the machine changes)
/// and ends with ``check`` and ``finish``; each kind of ``DeployTarget`` declares the steps
/// between (a disk swap's are in `DiskSwapTarget.steps`).
public struct SwapStep: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ name: String) { rawValue = name }

    public var description: String { rawValue }

    /// The incoming image is made ready (pushed, the host's identity written into it).
    public static let prepare = SwapStep("prepare")
    /// The machine is stopped: a step of every target's, which the ledger times (`stopSeconds`).
    public static let stop = SwapStep("stop")
    /// The system's checks, over SSH.
    public static let check = SwapStep("check")
    /// The checks failed: the machine is being given its previous image back.
    public static let finish = SwapStep("finish")
}

/// How a swap ended.
public enum SwapResult: String, Codable, Sendable {
    case running
    /// The machine runs the incoming image and its checks passed.
    case healthy
    /// The checks failed; the machine was swapped back (a rollback swap records that).
    case failed
    /// Interrupted, then reverted by `imagec rollback`.
    case reverted
    /// Nothing changed on the machine (the swap failed before stopping it, or was a dry run).
    case abandoned
    /// An outcome only, never in the ledger: the host's deploy stopped with an error (its
    /// swap, if one began, is recorded as abandoned or failed).
    case error
}

/// One swap in the ledger.
public struct SwapRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "swap"
    public var id: Int64?
    public var kind: SwapKind
    public var host: String
    /// The target's description of the machine, for messages.
    public var machine: String
    /// Where its images are kept (the pool's description), for messages.
    public var pool: String
    /// What the machine boots from (a disk swap: the root disk's name in the pool).
    public var disk: String
    /// The image that the swap puts in place (under `disk`), and the name under which the
    /// image it replaces is kept (a generation to roll back to).
    public var incoming: String
    public var outgoing: String
    public var digest: String
    public var previousDigest: String?
    public var commit: String
    public var user: String
    /// Deployed without a passed `imagec test`.
    public var forced: Bool
    public var started: Date
    public var finished: Date?
    public var step: SwapStep
    public var stepDone: Bool
    public var result: SwapResult
    /// The failing check and its output, or the error that stopped the swap.
    public var failure: String?
    /// From the swap's start to the machine's start (excluding build and push).
    public var swapSeconds: Double?
    /// Of which stopping the machine (a clean shutdown).
    public var stopSeconds: Double?
    /// From the swap's start to its checks passing.
    public var healthySeconds: Double?
    /// Where the host is deployed (pool, disk, machine), its checks and SSH address: enough
    /// to finish or undo the swap without the definitions.
    public var target: Deployment
    public var checks: [Check]
    public var ssh: String
    /// The pool images of the persistent volumes to snapshot before the swap.
    public var volumes: [String]

    /// A new swap at its first step; `machine` and `pool` are the target's descriptions.
    public init(kind: SwapKind, host: String, target: Deployment, machine: String, pool: String, checks: [Check], ssh: String,
                volumes: [String] = [], incoming: String, outgoing: String, digest: String, previousDigest: String?, commit: String,
                forced: Bool) {
        self.kind = kind
        self.host = host
        self.target = target
        self.checks = checks
        self.ssh = ssh
        self.volumes = volumes
        self.machine = machine
        self.pool = pool
        self.disk = target.disk
        self.incoming = incoming
        self.outgoing = outgoing
        self.digest = digest
        self.previousDigest = previousDigest
        self.commit = commit
        self.user = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"]
            ?? String(cString: getpwuid(getuid())?.pointee.pw_name ?? strdup("uid \(getuid())"))
        self.forced = forced
        self.started = Date()
        self.step = .prepare
        self.stepDone = false
        self.result = .running
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// One step's intent or completion.
struct StepRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "step"
    var id: Int64?
    var swapId: Int64
    var step: String
    var state: String
    var at: Date

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
