import Foundation

/// Runs the same work on many items with a bounded number of threads: `imagec build
/// systems/*.swift` builds two systems at once, and systems that share a store entry (a package
/// layer) wait for the one that makes it (the store's lock), so each entry is made once.
public enum BoundedWork {
    /// `body` applied to each of `items`, at most `jobs` at once, its results in the items'
    /// order. Once an item fails no other starts; the first error is thrown when the running
    /// ones have ended.
    public static func map<Item: Sendable, Value>(_ items: [Item], jobs: Int, _ body: @escaping @Sendable (Item) throws -> Value) throws -> [Value] {
        let state = State<Value>(count: items.count)
        let workers = (0..<max(1, min(jobs, items.count))).map { _ in
            BackgroundWork {
                while let index = state.next() {
                    do {
                        state.finish(index, with: .success(try body(items[index])))
                    } catch {
                        state.finish(index, with: .failure(error))
                    }
                }
            }
        }
        for worker in workers { try worker.wait() }
        return try state.values()
    }

    /// The next item to start and what each gave, shared by the threads.
    private final class State<Value>: @unchecked Sendable {
        private let lock = NSLock()
        private var started = 0
        private var results: [Result<Value, any Error>?]
        private var failure: (any Error)?

        init(count: Int) { results = Array(repeating: nil, count: count) }

        /// The next item's index; nil when all have started or one has failed.
        func next() -> Int? {
            lock.withLock {
                guard failure == nil, started < results.count else { return nil }
                started += 1
                return started - 1
            }
        }

        func finish(_ index: Int, with result: Result<Value, any Error>) {
            lock.withLock {
                results[index] = result
                if case .failure(let error) = result, failure == nil { failure = error }
            }
        }

        func values() throws -> [Value] {
            try lock.withLock {
                if let failure { throw failure }
                return try results.map { try $0!.get() }
            }
        }
    }
}
