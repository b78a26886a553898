import Foundation
import ImagecCore
import ImageDSL
import Testing

/// The example systems evaluate to exactly the canonical models in Golden/.
/// Set IMAGEC_UPDATE_GOLDEN=1 to rewrite them after an intended change, then review the diff.
struct ExampleSystemsTests {
    static let files = ["bigmem2", "data001", "installer", "test001", "workers"]

    @Test(arguments: files)
    func canonicalModelMatchesGolden(name: String) throws {
        let evaluation = try Support.evaluator().evaluate(Support.repository.appendingPathComponent("systems/\(name).swift").path)
        let json = evaluation.systems.count == 1
            ? evaluation.systems[0].canonicalJSON
            : try CanonicalJSON.encode(value: evaluation.systems.map(\.model.canonical))
        let golden = Support.resources.appendingPathComponent("Golden/\(name).json")
        if ProcessInfo.processInfo.environment["IMAGEC_UPDATE_GOLDEN"] == "1" {
            try json.write(to: golden)
        }
        let expected = try Data(contentsOf: golden)
        #expect(String(decoding: json, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
    }

    @Test func workersFileDeclaresTenUniqueWorkers() throws {
        let evaluation = try Support.evaluator().evaluate(Support.repository.appendingPathComponent("systems/workers.swift").path)
        #expect(evaluation.systems.map(\.model.hostName) == (1...10).map { "slurmd-worker-\($0.zeroPadded(to: 3))" })
        #expect(Set(evaluation.systems.map(\.digest)).count == 10)
    }

    @Test func digestIsTheSHA256OfTheCanonicalJSON() throws {
        let evaluation = try Support.evaluator().evaluate(Support.repository.appendingPathComponent("systems/bigmem2.swift").path)
        let system = try #require(evaluation.systems.first)
        #expect(system.digest.description == "sha256:" + CanonicalJSON.sha256(system.canonicalJSON))
        #expect(!String(decoding: system.canonicalJSON, as: UTF8.self).contains("/work/"))
    }
}
