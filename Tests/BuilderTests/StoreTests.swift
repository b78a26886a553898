import Foundation
import ImagecCore
import Testing

/// The store: entries appear whole or not at all, once, and read-only.
struct StoreTests {
    @Test func anEntryIsMadeOnceAndThenFound() throws {
        let store = Store(root: try Support.temporaryDirectory())
        var makes = 0
        let first = try store.entry("abc-host") { folder in
            makes += 1
            try Data("image".utf8).write(to: folder.appendingPathComponent("disk.raw"))
        }
        let second = try store.entry("abc-host") { _ in makes += 1 }
        #expect(first == second)
        #expect(makes == 1)
        #expect(try String(contentsOf: first.appendingPathComponent("disk.raw"), encoding: .utf8) == "image")
        #expect(!FileManager.default.isWritableFile(atPath: first.appendingPathComponent("disk.raw").path) || getuid() == 0)
        var info = stat()
        stat(first.appendingPathComponent("disk.raw").path, &info)
        #expect(info.st_mode & 0o222 == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root.path).sorted() == [".locks", "abc-host"])
    }

    @Test func aFailedMakeLeavesNothing() throws {
        let store = Store(root: try Support.temporaryDirectory())
        struct Failure: Error {}
        #expect(throws: Failure.self) {
            try store.entry("abc-host") { folder in
                try Data("half".utf8).write(to: folder.appendingPathComponent("disk.raw"))
                throw Failure()
            }
        }
        #expect(store.entry("abc-host") == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root.path) == [".locks"])
    }

    @Test func concurrentMakesOfOneEntryRunOnce() async throws {
        let store = Store(root: try Support.temporaryDirectory())
        let counter = Counter()
        let results = try await withThrowingTaskGroup(of: URL.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try store.entry("abc-host") { folder in
                        counter.increment()
                        Thread.sleep(forTimeInterval: 0.2)
                        try Data("image".utf8).write(to: folder.appendingPathComponent("disk.raw"))
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(results).count == 1)
        #expect(counter.value == 1)
    }

    @Test func temporariesOfDeadBuildsAreRemoved() throws {
        let store = Store(root: try Support.temporaryDirectory())
        // A pid that cannot be running: the kernel's limit is below it.
        let abandoned = store.root.appendingPathComponent(".tmp-99999999-old-host")
        try FileManager.default.createDirectory(at: abandoned, withIntermediateDirectories: true)
        let mine = store.root.appendingPathComponent(".tmp-\(getpid())-other-host")
        try FileManager.default.createDirectory(at: mine, withIntermediateDirectories: true)
        _ = try store.entry("new-host") { _ in }
        #expect(!FileManager.default.fileExists(atPath: abandoned.path))
        #expect(FileManager.default.fileExists(atPath: mine.path))
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
