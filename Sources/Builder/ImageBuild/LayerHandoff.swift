import Foundation

/// Between a package layer being made on a thread of its own and those waiting for it: its
/// tree is handed over as soon as it is installed, so the layer above copies it from memory
/// while it is copied into the store; its entry once it is stored; and it stays in memory
/// until the layer above releases it (its own install is done).
final class LayerHandoff: @unchecked Sendable {
    private let handed = DispatchSemaphore(value: 0)
    private let stored = DispatchSemaphore(value: 0)
    private let released = DispatchSemaphore(value: 0)
    private var tree: Result<URL?, Error>?
    private var entry: Result<(entry: URL, made: Bool), Error>?

    /// The layer is installed: `tree` is its tree in memory, or `nil` when the layer above must
    /// take it from the layer's entry (made on the store's file system, or found there).
    func hand(_ tree: URL?) {
        guard self.tree == nil else { return }
        self.tree = .success(tree)
        handed.signal()
    }

    /// The layer is in the store (`made`: by this build).
    func store(_ entry: URL, made: Bool) {
        hand(nil)
        self.entry = .success((entry, made))
        stored.signal()
    }

    /// The layer could not be made.
    func fail(_ error: Error) {
        if tree == nil {
            tree = .failure(error)
            handed.signal()
        }
        entry = .failure(error)
        stored.signal()
    }

    /// Blocks until the layer is installed; its tree in memory, `nil` when it is to be taken from
    /// the entry, or the error that stopped it.
    func installedTree() throws -> URL? {
        handed.wait()
        handed.signal()
        return try tree!.get()
    }

    /// Blocks until the layer is in the store; its entry, or the error that stopped it.
    func storedEntry() throws -> (entry: URL, made: Bool) {
        stored.wait()
        stored.signal()
        return try entry!.get()
    }

    /// The layer above is done with the tree (or will never need it).
    func release() { released.signal() }

    /// Blocks until the layer above releases the tree.
    func waitForRelease() { released.wait() }
}
