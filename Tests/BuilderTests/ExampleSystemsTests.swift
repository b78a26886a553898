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

    /// Each template of a system's chain is a package stage, as the package layers will follow
    /// them; a template or system that asks for nothing more shares the stage below it.
    @Test func packageStagesFollowTheTemplates() throws {
        func stages(_ name: String) throws -> (model: SystemModel, stages: [PackageStage]) {
            let evaluation = try Support.evaluator().evaluate(Support.repository.appendingPathComponent("systems/\(name).swift").path)
            let model = try #require(evaluation.systems.first?.model)
            return (model, try #require(model.packageStages))
        }
        func places(_ stages: [PackageStage]) -> [String] {
            stages.map { "\(URL(fileURLWithPath: $0.location.file).lastPathComponent):\($0.location.line)" }
        }
        // test001 adds no package to Lab.debug's: it shares that stage.
        let test001 = try stages("test001")
        #expect(places(test001.stages) == ["Lab.swift:38", "VirtualMachines.swift:6", "VirtualMachines.swift:32"])
        #expect(test001.stages[0].requested.contains("chrony") && !test001.stages[1].requested.contains("chrony"), "oneDiskVM removes Chrony")
        #expect(Set(test001.stages[2].requested).subtracting(test001.stages[1].requested) == ["gdb", "git", "htop", "strace", "tcpdump", "vim"])
        #expect(test001.stages.last?.requested == test001.model.requestedPackages)
        let data001 = try stages("data001")
        #expect(places(data001.stages) == ["Lab.swift:38", "VirtualMachines.swift:6", "VirtualMachines.swift:22", "data001.swift:4"])
        #expect(Set(data001.stages[3].requested).subtracting(data001.stages[2].requested) == ["postgresql"])
        #expect(data001.stages[2].requested.contains("xfsprogs") && !data001.stages[1].requested.contains("xfsprogs"))
        let bigmem2 = try stages("bigmem2")
        #expect(places(bigmem2.stages) == ["Lab.swift:38", "Bigmem.swift:7", "bigmem2.swift:4"])
        #expect(bigmem2.stages.last?.requested == bigmem2.model.requestedPackages)
        // Stages say where packages come from: they change neither the canonical model nor the digest.
        #expect(test001.model.canonical.packageStages == nil)
    }

    @Test func digestIsTheSHA256OfTheCanonicalJSON() throws {
        let evaluation = try Support.evaluator().evaluate(Support.repository.appendingPathComponent("systems/bigmem2.swift").path)
        let system = try #require(evaluation.systems.first)
        #expect(system.digest.description == "sha256:" + CanonicalJSON.sha256(system.canonicalJSON))
        #expect(!String(decoding: system.canonicalJSON, as: UTF8.self).contains("/work/"))
    }
}
