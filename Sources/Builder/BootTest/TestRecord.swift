import Checks
import Foundation
import ImagecCore

/// The result of booting one image with one firmware and running its checks, kept in the
/// store under `.tests/<entry>/` with the whole console log, so deployment can ask whether a
/// digest has passed.
public struct TestRecord: Codable, Sendable {
    /// The store entry tested (`<digest>-<host>`).
    public var entry: String
    public var hostName: String
    public var firmware: String
    public var accelerator: String
    public var passed: Bool
    /// Why it failed, when it did: the failing checks, a kernel panic, a boot timeout.
    public var failure: String?
    /// ISO 8601, UTC.
    public var started: String
    /// From starting QEMU to SSH answering; `nil` when the guest never answered.
    public var bootSeconds: Double?
    public var seconds: Double
    public var checks: [CheckOutcome]
    public var imagecVersion: String

    /// The records of `entry`, oldest first.
    public static func all(for entry: String, in store: Store) -> [TestRecord] {
        let folder = store.root.appendingPathComponent(".tests/\(entry)")
        let runs = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        return runs.compactMap { run in
            (try? Data(contentsOf: folder.appendingPathComponent("\(run)/record.json")))
                .flatMap { try? JSONDecoder().decode(TestRecord.self, from: $0) }
        }
    }

    /// One line on whether `entry` has passed: the latest record per firmware.
    public static func status(of entry: String, in store: Store) -> String {
        guard store.entry(entry) != nil else { return "not built" }
        var latest: [String: TestRecord] = [:]
        for record in all(for: entry, in: store) { latest[record.firmware] = record }
        guard !latest.isEmpty else { return "built, not tested (imagec test)" }
        return latest.values.sorted { $0.firmware < $1.firmware }.map { record in
            (record.passed ? "passed" : "FAILED") + " with \(record.firmware) on \(record.started)"
                + (record.failure.map { " (\($0))" } ?? "")
        }.joined(separator: "; ")
    }

    /// Saves the record and the console log, complete or not at all.
    func save(console: URL, in store: Store) throws -> URL {
        let folder = store.root.appendingPathComponent(".tests/\(entry)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let name = started.replacingOccurrences(of: ":", with: "") + "-\(firmware)"
        let temporary = folder.appendingPathComponent(".tmp-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: temporary)
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: false)
        try CanonicalJSON.encode(value: self).write(to: temporary.appendingPathComponent("record.json"))
        try FileManager.default.copyItem(at: console, to: temporary.appendingPathComponent("console.log"))
        let final = folder.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: final)
        try FileManager.default.moveItem(at: temporary, to: final)
        return final
    }
}
