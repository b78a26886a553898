import BootServer
import Foundation

/// A boot server for one deploy in place, in this process, on 127.0.0.1 and a port the system
/// chose: the machine's agent reaches it through its SSH connection (a remote forwarding), so
/// nothing but SSH is needed between the admin host and the machine.
///
/// It runs on a thread of its own: the deploy that starts it waits synchronously, and so may every
/// other thread of Swift's shared pool (as many as cores), which would leave the server none.
final class LocalBootServer: @unchecked Sendable {
    let port: Int
    private let task: Task<Void, any Error>

    init(state: BootState) throws {
        let listening = DispatchSemaphore(value: 0)
        let chosen = Chosen()
        task = Task(executorPreference: OwnThread()) {
            try await BootServer(routes: BootRoutes(state: state), host: "127.0.0.1", port: 0).run { port in
                chosen.port = port
                listening.signal()
            }
        }
        guard listening.wait(timeout: .now() + 30) == .success, let port = chosen.port else {
            task.cancel()
            throw DeployError("cannot start a boot server on 127.0.0.1 for the deploy in place")
        }
        self.port = port
    }

    func stop() { task.cancel() }

    /// Runs the server's jobs (and its connections', child tasks that inherit it) on one thread.
    private final class OwnThread: TaskExecutor, @unchecked Sendable {
        private let queue = DispatchQueue(label: "imagec.local-boot-server")

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }

    private final class Chosen: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Int?
        var port: Int? {
            get { lock.withLock { value } }
            set { lock.withLock { value = newValue } }
        }
    }
}
