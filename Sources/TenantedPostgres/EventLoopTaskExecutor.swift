import NIOCore
import Synchronization

/// A NIO event loop as a Swift `TaskExecutor`: work preferring it runs on the loop's thread.
///
/// ``PostgresTenantPool/withConnection(isolation:_:)`` runs its body with the leased connection's
/// loop as the task's executor preference: the connection's answers arrive on that loop, so a
/// statement awaited there resumes on the same thread instead of waking a thread of the
/// cooperative pool, and the next statement is written without a hop back to the loop.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    private init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// One executor per event loop, made on first use (event loops live as long as their group).
    static func of(_ eventLoop: any EventLoop) -> EventLoopTaskExecutor {
        executors.withLock { executors in
            let key = ObjectIdentifier(eventLoop)
            if let executor = executors[key] { return executor }
            let executor = EventLoopTaskExecutor(eventLoop)
            executors[key] = executor
            return executor
        }
    }

    /// Runs `body` with `eventLoop` as the task's executor preference (`withTaskExecutorPreference`,
    /// whose result is not `sending`: this one hands `body`'s on).
    static func preferring<Result>(
        _ eventLoop: any EventLoop,
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> sending Result
    ) async throws -> sending Result {
        // `body`'s result is `sending`: nothing else holds it, so carrying it out in a box the
        // compiler cannot see through cannot race.
        let carried = try await withTaskExecutorPreference(of(eventLoop), isolation: isolation) {
            Carried(value: try await body())
        }
        return carried.value
    }

    private struct Carried<Value>: @unchecked Sendable {
        var value: Value
    }

    private static let executors = Mutex<[ObjectIdentifier: EventLoopTaskExecutor]>([:])
}
