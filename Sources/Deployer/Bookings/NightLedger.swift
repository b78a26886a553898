import Foundation
import GRDB
import ImageDSL
import ImagecCore

/// The record of each night (SQLite, beside the deployment ledger): for each machine, the
/// booking it was given and how far its reinstall went, step by step (the intent before
/// each step); and every mail, marked as being sent before it is sent and sent after. A run
/// killed anywhere is finished by the next run of the same night, which neither reinstalls
/// nor mails twice.
public final class NightLedger: Sendable {
    private let database: DatabaseQueue
    public let path: URL

    public init(path: URL) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        do {
            try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
            database = try DatabaseQueue(path: path.path, configuration: configuration)
            try Self.migrator.migrate(database)
        } catch {
            throw BookingsError("cannot open the bookings record \(path.path): \(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "machineNight") { table in
                table.column("night", .text).notNull()
                table.column("machine", .text).notNull()
                table.primaryKey(["night", "machine"])
                table.column("booking", .text).notNull()
                table.column("user", .text).notNull()
                table.column("firstDay", .text).notNull()
                table.column("lastDay", .text).notNull()
                table.column("action", .text).notNull()
                table.column("step", .text).notNull()
                table.column("stepDone", .boolean).notNull()
                table.column("result", .text).notNull()
                table.column("digest", .text)
                table.column("swap", .integer)
                table.column("failure", .text)
                table.column("updated", .datetime).notNull()
            }
            try db.create(table: "mail") { table in
                table.column("id", .text).primaryKey()
                table.column("night", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("booking", .text)
                table.column("recipients", .text).notNull()
                table.column("subject", .text).notNull()
                table.column("state", .text).notNull()  // sending, sent
                table.column("at", .datetime).notNull()
            }
        }
        return migrator
    }

    /// A machine's night: which booking, how far.
    public struct MachineNight: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
        public static let databaseTableName = "machineNight"
        public var night: CalendarDay
        public var machine: String
        public var booking: String
        public var user: String
        public var firstDay: CalendarDay
        public var lastDay: CalendarDay
        public var action: MachinePlan.Action
        public var step: NightStep
        public var stepDone: Bool
        public var result: Result
        public var digest: String?
        public var swap: Int64?
        public var failure: String?
        public var updated: Date

        public enum Result: String, Codable, Sendable {
            case running, done, failed
        }
    }

    /// The row of `machine` for `night`, if the night began for it.
    public func machineNight(_ night: CalendarDay, _ machine: String) throws -> MachineNight? {
        try database.read { db in try MachineNight.fetchOne(db, key: ["night": night.description, "machine": machine]) }
    }

    /// The rows of `night`.
    public func machineNights(_ night: CalendarDay) throws -> [MachineNight] {
        try database.read { db in try MachineNight.filter(Column("night") == night.description).order(Column("machine")).fetchAll(db) }
    }

    /// Records that `booking` has `machine` from `night` on: a reinstall about to take its
    /// first step, or a booking kept as it is (done at once). It replaces the night's earlier
    /// row of the machine, if any (another booking's, or a failed reinstall tried again).
    public func begin(_ night: CalendarDay, _ booking: Booking, action: MachinePlan.Action, first step: NightStep) throws -> MachineNight {
        let row = MachineNight(night: night, machine: booking.machine, booking: booking.id, user: booking.account.name,
                               firstDay: booking.firstDay, lastDay: booking.lastDay, action: action, step: step, stepDone: action == .keep,
                               result: action == .keep ? .done : .running, updated: Date())
        try database.write { db in try row.save(db) }
        return row
    }

    /// Writes that `step` of the machine's night is about to be taken.
    public func intend(_ step: NightStep, _ night: CalendarDay, _ machine: String) throws {
        try update(night, machine, "step = ?, stepDone = 0", [step.rawValue])
    }

    /// Writes that `step` was taken.
    public func done(_ step: NightStep, _ night: CalendarDay, _ machine: String) throws {
        try update(night, machine, "stepDone = 1", [], where: "step = ?", [step.rawValue])
    }

    /// Records the image the machine gets, and the swap that deploys it.
    public func record(digest: String? = nil, swap: Int64? = nil, _ night: CalendarDay, _ machine: String) throws {
        try update(night, machine, "digest = COALESCE(?, digest), swap = COALESCE(?, swap)", [digest, swap])
    }

    /// Writes how the machine's night ended.
    public func finish(_ night: CalendarDay, _ machine: String, result: MachineNight.Result, failure: String? = nil) throws {
        try update(night, machine, "result = ?, failure = ?", [result.rawValue, failure])
    }

    private func update(_ night: CalendarDay, _ machine: String, _ set: String, _ values: [(any DatabaseValueConvertible)?],
                        where condition: String? = nil, _ conditionValues: [(any DatabaseValueConvertible)?] = []) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE machineNight SET \(set), updated = ? WHERE night = ? AND machine = ?" + (condition.map { " AND \($0)" } ?? ""),
                           arguments: StatementArguments(values + [Date(), night.description, machine] + conditionValues))
        }
    }

    /// The booking each machine runs now: its last night that ended well (a failed reinstall
    /// left the machine on what it ran before).
    public func installed() throws -> [String: InstalledBooking] {
        let rows = try database.read { db in
            try MachineNight.filter(Column("result") == MachineNight.Result.done.rawValue).order(Column("night"), Column("updated")).fetchAll(db)
        }
        var installed: [String: InstalledBooking] = [:]
        for row in rows {
            installed[row.machine] = InstalledBooking(booking: row.booking, user: row.user, firstDay: row.firstDay, lastDay: row.lastDay)
        }
        return installed
    }

    // MARK: - Mails

    public enum MailState: String, Codable, Sendable { case sending, sent }

    /// The state of the mail with this id, if it was ever begun.
    public func mailState(_ id: String) throws -> MailState? {
        try database.read { db in
            try String.fetchOne(db, sql: "SELECT state FROM mail WHERE id = ?", arguments: [id]).flatMap(MailState.init(rawValue:))
        }
    }

    /// Writes that a mail is about to be sent (a crash now leaves it `sending`: sent again,
    /// with the same Message-ID).
    public func sending(_ id: String, night: CalendarDay, kind: String, booking: String?, recipients: [String], subject: String) throws {
        try database.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO mail (id, night, kind, booking, recipients, subject, state, at) VALUES (?, ?, ?, ?, ?, ?, 'sending', ?)",
                           arguments: [id, night.description, kind, booking, recipients.joined(separator: ", "), subject, Date()])
        }
    }

    /// Writes that the mail was sent.
    public func sent(_ id: String) throws {
        try database.write { db in try db.execute(sql: "UPDATE mail SET state = 'sent', at = ? WHERE id = ?", arguments: [Date(), id]) }
    }

    /// The reminders sent (their ``Reminder/key``, kept in the mail's booking column).
    public func reminded() throws -> Set<String> {
        Set(try database.read { db in
            try String.fetchAll(db, sql: "SELECT booking FROM mail WHERE kind = 'reminder' AND state = 'sent' AND booking IS NOT NULL")
        })
    }
}

/// A step of a machine's reinstall, recorded as intended before it is taken.
public enum NightStep: String, Codable, Sendable, CaseIterable {
    /// The booked system built (or found in the store).
    case build
    /// Booted and checked (`imagec test`), unless the image already passed.
    case test
    /// Deployed (the swap is in the deployment ledger).
    case deploy
    /// The user mailed.
    case mail
    /// Nothing left.
    case done
}
