import Foundation
import ImagecCore
import ImageDSL
import Testing

/// Evaluation: the cache, the sandbox, time limits, and the result channel.
struct EvaluationTests {
    /// A scratch definitions repository: templates/base.swift and systems/a.swift.
    struct Repository {
        let root: URL
        var system: URL { root.appendingPathComponent("systems/a.swift") }
        var template: URL { root.appendingPathComponent("templates/base.swift") }

        init(system: String, template: String = "enum Site { static let base = OperatingSystem { Timezone(\"Europe/Paris\") } }") throws {
            root = try Support.temporaryDirectory()
            try FileManager.default.createDirectory(at: root.appendingPathComponent("systems"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: root.appendingPathComponent("templates"), withIntermediateDirectories: true)
            try write(system: system)
            try write(template: template)
        }

        func write(system text: String) throws { try ("import ImageDSL\n" + text).write(to: system, atomically: true, encoding: .utf8) }
        func write(template text: String) throws { try ("import ImageDSL\n" + text).write(to: template, atomically: true, encoding: .utf8) }
    }

    static let simple = "let system = OperatingSystem(inheriting: Site.base) { HostName(\"a1\") }\n"

    /// A file that is not UTF-8 text is refused at the line of its first bad byte, in one line;
    /// a byte-order mark does not shift the lines errors are reported at.
    @Test func encodingIsCheckedAndAByteOrderMarkKeepsTheLines() throws {
        let repository = try Repository(system: Self.simple)
        let latin1 = Data("import ImageDSL\n// Syst\u{e8}me de l'\u{e9}quipe\n".utf8) + Data([0x2F, 0x2F, 0x20, 0x63, 0x61, 0x66, 0xE9, 0x0A])
            + Data("let system = OperatingSystem { HostName(\"a1\") }\n".utf8)
        try latin1.write(to: repository.system)
        let notUTF8 = try Support.definitionError(repository.system.path)
        #expect(notUTF8.diagnostics.count == 1 && notUTF8.diagnostics[0].location?.line == 3, "\(notUTF8)")
        #expect(notUTF8.description.contains("a.swift is not valid UTF-8: byte 47 (0xE9) does not decode"), "\(notUTF8)")

        try (Data((0..<4096).map { UInt8(($0 * 7919 + 13) % 256) })).write(to: repository.system)
        let garbage = try Support.definitionError(repository.system.path)
        #expect(garbage.diagnostics.count == 1 && garbage.description.split(separator: "\n").count == 1, "\(garbage)")

        try Data("\u{FEFF}import ImageDSL\nlet system = OperatingSystem {\n    HostName(\"a1\")\n    Timezone(\"Paris\")\n}\n".utf8)
            .write(to: repository.system)
        let marked = try Support.definitionError(repository.system.path)
        #expect(marked.diagnostics.map(\.location?.line) == [4], "\(marked)")

        // A comment never closed is reported where it opens, not at the end of what imagec compiles.
        try repository.write(system: "let system = OperatingSystem {\n    HostName(\"a1\")  // a /* in a line comment\n    Timezone(\"Europe/Paris /* */\")\n    /* retired:\n    Timezone(\"UTC\")\n}\n")
        let unclosed = try Support.definitionError(repository.system.path)
        #expect(unclosed.description == "\(repository.system.path):5: error: a.swift has a comment opened here with /* and never closed with */",
                "\(unclosed)")
    }

    @Test func cacheHitAndMissAfterTemplateOrSystemEdit() throws {
        let repository = try Repository(system: Self.simple)
        let evaluator = try Support.evaluator(cache: repository.root.appendingPathComponent("cache"))

        let first = try evaluator.evaluate(repository.system.path)
        #expect(!first.cacheHit)
        #expect(first.systems.first?.model.timezone == "Europe/Paris")

        let second = try evaluator.evaluate(repository.system.path)
        #expect(second.cacheHit)
        #expect(second.systems.first?.canonicalJSON == first.systems.first?.canonicalJSON)

        try repository.write(template: "enum Site { static let base = OperatingSystem { Timezone(\"America/Montreal\") } }")
        let afterTemplateEdit = try evaluator.evaluate(repository.system.path)
        #expect(!afterTemplateEdit.cacheHit)
        #expect(afterTemplateEdit.systems.first?.model.timezone == "America/Montreal")
        #expect(afterTemplateEdit.systems.first?.digest != first.systems.first?.digest)

        try repository.write(system: "let system = OperatingSystem(inheriting: Site.base) { HostName(\"a2\") }\n")
        let afterSystemEdit = try evaluator.evaluate(repository.system.path)
        #expect(!afterSystemEdit.cacheHit)
        #expect(afterSystemEdit.systems.first?.model.hostName == "a2")
        #expect(try evaluator.evaluate(repository.system.path).cacheHit)
    }

    /// The compiler's commands are kept, so the driver is not started again; a kept plan that
    /// no longer works falls back to swiftc, and a definition that does not compile is still
    /// reported with the compiler's own diagnostic.
    @Test func theCompilerPlanIsKeptAndABrokenOneFallsBackToSwiftc() throws {
        let repository = try Repository(system: Self.simple)
        let cache = repository.root.appendingPathComponent("cache")
        let evaluator = try Support.evaluator(cache: cache)
        #expect(try evaluator.evaluate(repository.system.path).systems.first?.model.hostName == "a1")
        let plans = cache.appendingPathComponent("compiler-plans")
        let kept = try FileManager.default.contentsOfDirectory(atPath: plans.path)
        #expect(kept.count == 1)

        try repository.write(system: "let system = OperatingSystem(inheriting: Site.base) { HostName(\"a2\") }\n")
        #expect(try evaluator.evaluate(repository.system.path).systems.first?.model.hostName == "a2")
        #expect(try FileManager.default.contentsOfDirectory(atPath: plans.path) == kept, "the same plan, used again")

        let file = plans.appendingPathComponent(kept[0])
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains("swift-frontend"))
        try text.replacingOccurrences(of: "swift-frontend", with: "swift-frontend-gone").write(to: file, atomically: true, encoding: .utf8)
        try repository.write(system: "let system = OperatingSystem(inheriting: Site.base) { HostName(\"a3\") }\n")
        #expect(try evaluator.evaluate(repository.system.path).systems.first?.model.hostName == "a3")

        try repository.write(system: "let system = OperatingSystem(inheriting: Site.base) { HostName(42) }\n")
        let error = try Support.definitionError(repository.system.path, evaluator: evaluator)
        #expect(error.diagnostics.first?.location?.line == 2, "\(error.diagnostics)")
        #expect(error.diagnostics.first?.message.contains("Int") == true, "\(error.diagnostics)")
    }

    @Test func aNewTemplateFileInvalidatesTheCache() throws {
        let repository = try Repository(system: Self.simple)
        let evaluator = try Support.evaluator(cache: repository.root.appendingPathComponent("cache"))
        _ = try evaluator.evaluate(repository.system.path)
        try "import ImageDSL\nenum Other {}\n".write(
            to: repository.root.appendingPathComponent("templates/other.swift"), atomically: true, encoding: .utf8)
        #expect(try !evaluator.evaluate(repository.system.path).cacheHit)
    }

    @Test func aTrapIsReportedWithItsOutputAndNothingIsCached() throws {
        let repository = try Repository(system: """
            print("looking up the address")
            let addresses: [String: String] = [:]
            let system = OperatingSystem { HostName("a1"); Network { Interface("eno1", address: addresses["a1"]!) } }

            """)
        let cache = repository.root.appendingPathComponent("cache")
        let error = try Support.definitionError(repository.system.path, evaluator: Support.evaluator(cache: cache))
        #expect(error.kind == .crash)
        #expect(error.diagnostics.map(\.description) == [
            "\(repository.system.path):4: error: the definition crashed while running: Unexpectedly found nil while unwrapping an Optional value",
        ])
        #expect(error.output == "looking up the address\n")
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("evaluations").path)) ?? []
        #expect(entries.isEmpty)
    }

    /// A crash after megabytes of output is still reported with its reason and line, and what
    /// was printed is cut to its last lines.
    @Test func aCrashAfterMuchOutputKeepsItsReason() throws {
        let repository = try Repository(system: """
            for line in 0..<40_000 { print("resolving node \\(line) of the inventory, one long line of text") }
            let nodes: [String] = []
            let system = OperatingSystem { HostName(nodes[0]) }

            """)
        let error = try Support.definitionError(repository.system.path)
        #expect(error.kind == .crash && error.diagnostics.map(\.location?.line) == [4], "\(error.diagnostics)")
        #expect(error.diagnostics.first?.message.contains("Index out of range") == true, "\(error.diagnostics)")
        let lines = error.output.split(separator: "\n")
        #expect(lines.count <= 41 && lines.first?.hasSuffix("earlier lines not shown]") == true, "\(error.output.prefix(300))")
        #expect(lines.last == "resolving node 39999 of the inventory, one long line of text")
    }

    @Test func aDefinitionThatRunsTooLongIsStopped() throws {
        let repository = try Repository(system: """
            var spins = 0
            while spins >= 0 { spins &+= 1 }
            let system = OperatingSystem { HostName("a1") }

            """)
        let started = Date()
        var evaluator = try Support.evaluator(timeout: 2)
        evaluator.scratchRoot = repository.root
        let error = try Support.definitionError(repository.system.path, evaluator: evaluator)
        #expect(error.kind == .timeout)
        #expect(error.diagnostics.first?.message.hasPrefix("the definition ran longer than 2 s and was stopped") == true)
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(try !processIsRunning(matching: repository.root.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: repository.root.path).sorted() == ["systems", "templates"])
    }

    @Test func whatTheDefinitionPrintsCannotCorruptTheResult() throws {
        let repository = try Repository(system: """
            print(#"{"diagnostics":[],"systems":[]}"#)
            let system = OperatingSystem { HostName("a1") }

            """)
        let evaluation = try Support.evaluator().evaluate(repository.system.path)
        #expect(evaluation.systems.map(\.model.hostName) == ["a1"])
        #expect(evaluation.output == "{\"diagnostics\":[],\"systems\":[]}\n")
    }

    @Test func canonicalJSONIsTheSameOnEveryEvaluation() throws {
        let repository = try Repository(system: Self.simple)
        let first = try Support.evaluator().evaluate(repository.system.path)
        let second = try Support.evaluator().evaluate(repository.system.path)
        #expect(first.systems.first?.canonicalJSON == second.systems.first?.canonicalJSON)
    }

    /// The sandbox hides the host's files (only /usr and the Swift runtime are visible), makes
    /// everything but the scratch folder read-only and gives the definition a network of its own. The same program run without the sandbox
    /// reaches both, which shows the probes work.
    @Test func theSandboxBlocksWritesAndTheNetwork() throws {
        let listener = try LoopbackListener()
        let outside = try Support.temporaryDirectory().appendingPathComponent("escaped")
        let repository = try Repository(system: """
            import Foundation
            let wrote = FileManager.default.createFile(atPath: "\(outside.path)", contents: Data("x".utf8))
            print("write:", wrote ? "allowed" : "denied")
            print("read:", FileManager.default.contents(atPath: "/etc/hostname") == nil ? "denied" : "allowed")
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(\(listener.port)).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            print("network:", connected == 0 ? "reached" : "unreachable")
            let system = OperatingSystem { HostName("a1") }

            """)
        var evaluator = try Support.evaluator()
        let sandboxed = try evaluator.evaluate(repository.system.path)
        #expect(sandboxed.output == "write: denied\nread: denied\nnetwork: unreachable\n")
        #expect(!FileManager.default.fileExists(atPath: outside.path))

        evaluator.sandbox = Sandbox(bubblewrap: nil)
        let unsandboxed = try evaluator.evaluate(repository.system.path)
        #expect(unsandboxed.output == "write: allowed\nread: allowed\nnetwork: reached\n")
    }

    private func processIsRunning(matching text: String) throws -> Bool {
        let entries = try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { Int($0) != nil }
        return entries.contains { pid in
            let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            return command.contains(text)
        }
    }
}

/// A TCP listener on 127.0.0.1 with a free port, closed when released.
final class LoopbackListener {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(descriptor, address, length) == 0 && listen(descriptor, 4) == 0
                    && getsockname(descriptor, address, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(descriptor) }
}
