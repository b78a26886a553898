import Foundation

/// Work started on a thread of its own and waited for later, to overlap steps that do not
/// depend on each other: a build makes the root base while the tree is configured; a swap
/// renames disks while the machine is powered off. Whoever starts it calls ``wait()``
/// before touching what the work uses or writes.
///
/// What the work captured is released on its thread *before* ``wait()`` returns: a value
/// whose last reference it held (a Ceph connection) is closed then, not while the process
/// is already exiting, which crashed librados' threads.
public final class BackgroundWork<Value>: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private var result: Result<Value, Error>?

    public init(_ work: @escaping () throws -> Value) {
        // Not `@Sendable`: until `wait()`, the work alone uses what it captures.
        let pending = Pending(work)
        Thread.detachNewThread { [self] in
            run(pending)
            finished.signal()
        }
    }

    /// Runs the work and drops it, with all it captured, before returning.
    private func run(_ pending: Pending) {
        result = Result(catching: pending.take())
    }

    /// Blocks until the work is done; returns its value or throws its error. Can be called again.
    @discardableResult
    public func wait() throws -> Value {
        finished.wait()
        finished.signal()
        return try result!.get()
    }

    /// The work, held until its thread takes it.
    private final class Pending: @unchecked Sendable {
        private var work: (() throws -> Value)?
        init(_ work: @escaping () throws -> Value) { self.work = work }
        func take() -> () throws -> Value {
            defer { work = nil }
            return work!
        }
    }
}
