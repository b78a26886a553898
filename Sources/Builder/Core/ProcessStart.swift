import Foundation

extension Process {
    /// Runs the program as `run()` does, but with no signal blocked.
    ///
    /// Foundation's `Process` on Linux passes the calling thread's signal mask on to the program
    /// (swift-corelibs-foundation issue 4772), and Dispatch's threads (Swift concurrency's, the
    /// test runner's, `DispatchQueue.global()`'s) block nearly every signal. A program started
    /// from one of them would ignore SIGTERM for its whole life: QEMU, a Ceph daemon or libvirtd
    /// could then only be killed. The mask is emptied on this thread for the moment of the spawn.
    public func start() throws {
        var empty = sigset_t()
        var saved = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        try run()
    }
}
