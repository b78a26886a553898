import Foundation

/// Work started on a thread of its own and waited for later, to overlap steps that do not
/// depend on each other: a build makes the root base while the tree is configured; a swap
/// renames disks while the machine is powered off. Whoever starts it calls ``wait()``
/// before touching what the work uses or writes.
public final class BackgroundWork<Value>: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private var result: Result<Value, Error>?

    public init(_ work: @escaping () throws -> Value) {
        // Not `@Sendable`: until `wait()`, the work alone uses what it captures.
        nonisolated(unsafe) let work = work
        Thread.detachNewThread { [self] in
            result = Result(catching: work)
            finished.signal()
        }
    }

    /// Blocks until the work is done; returns its value or throws its error. Can be called again.
    @discardableResult
    public func wait() throws -> Value {
        finished.wait()
        finished.signal()
        return try result!.get()
    }
}
