import Foundation
import ImagecCore
import Testing

/// Progress as typed events: their text, their subject, and their JSON.
struct ProgressTests {
    final class Events: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [ProgressEvent] = []
        var all: [ProgressEvent] { lock.withLock { events } }
        @Sendable func append(_ event: ProgressEvent) { lock.withLock { events.append(event) } }
    }

    @Test func eventsAreTypedAndRenderedAsText() throws {
        let events = Events()
        let progress = ProgressReporter(events.append)
        progress("pushing to local:/pool")
        progress.about("node1")(.stepFinished("root base", seconds: 2.25))
        progress.about("node1")(.check("boot", passed: false, seconds: 1.5))
        progress(.transfer("push", done: 1 << 30, total: 2 << 30, written: 512 << 20, bytesPerSecond: 100 << 20))
        #expect(events.all.map(\.text) == [
            "pushing to local:/pool", "node1: root base: 2.2 s", "node1:   FAIL boot (1.5 s)",
            "push: 1.0 GiB of 2.0 GiB examined, 512.0 MiB written (100.0 MiB/s)",
        ])
        #expect(events.all.map(\.subject) == [nil, "node1", "node1", nil])
        let encoder = JSONEncoder(), decoder = JSONDecoder()
        for event in events.all {
            #expect(try decoder.decode(ProgressEvent.self, from: encoder.encode(event)) == event)
        }
    }
}
