import Foundation
import ImagecCore
import Testing

/// Work on many items with a bounded number of threads (`imagec build --jobs`).
struct BoundedWorkTests {
    /// How many items run at once, at most, and which started.
    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var running = 0
        private(set) var most = 0
        private(set) var started: [Int] = []
        func begin(_ item: Int) { lock.withLock { running += 1; most = max(most, running); started.append(item) } }
        func end() { lock.withLock { running -= 1 } }
    }

    struct Failure: Error, Equatable { var item: Int }

    @Test func resultsInOrderWithAtMostTheJobsAtOnce() throws {
        let tally = Tally()
        let results = try BoundedWork.map(Array(0..<12), jobs: 3) { item in
            tally.begin(item)
            defer { tally.end() }
            usleep(UInt32((12 - item) * 3000))  // the later items end first
            return item * item
        }
        #expect(results == (0..<12).map { $0 * $0 })
        #expect(tally.most == 3)
        #expect(try BoundedWork.map([Int](), jobs: 2) { $0 } == [])
    }

    @Test func afterAFailureNothingElseStarts() {
        let tally = Tally()
        #expect(throws: Failure(item: 1)) {
            _ = try BoundedWork.map(Array(0..<20), jobs: 2) { item in
                tally.begin(item)
                defer { tally.end() }
                if item == 1 { throw Failure(item: 1) }
                usleep(20_000)
                return item
            }
        }
        // Item 0 was running when item 1 failed; at most one more had started beside it.
        #expect(tally.started.count <= 3, "\(tally.started)")
    }

    /// Set by the deinit of a value only the work holds, after a pause.
    final class Released: @unchecked Sendable {
        private let lock = NSLock()
        private var flag = false
        var done: Bool { lock.withLock { flag } }
        func mark() { lock.withLock { flag = true } }
    }

    final class Resource: @unchecked Sendable {
        let released: Released
        init(_ released: Released) { self.released = released }
        deinit { usleep(200_000); released.mark() }
    }

    /// What the work captured is released before `wait()` returns (a Ceph connection closed
    /// on a worker thread while the main thread exited crashed librados).
    @Test func whatTheWorkHeldIsReleasedBeforeTheWaitEnds() throws {
        let released = Released()
        do {
            let resource = Resource(released)
            _ = try BoundedWork.map([resource], jobs: 1) { $0.released.done }
        }
        #expect(released.done)
        let alone = Released()
        let work = { () -> BackgroundWork<Bool> in
            let resource = Resource(alone)
            return BackgroundWork { withExtendedLifetime(resource) { true } }
        }()
        _ = try work.wait()
        #expect(alone.done)
    }
}
