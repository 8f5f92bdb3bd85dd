import BenchmarkSupport
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// `postgres-figures --only hops`: where a PK select's time goes between the calling task and the
/// connection's event loop, on postgres-nio alone (one connection, no Tenanted): the same statement
/// awaited from a task of Swift's cooperative pool (workload 7's baseline: the write hops to the
/// loop, the answer wakes a pool thread), from a task that prefers the connection's event loop as its
/// executor (no thread switch: what ``TenantedPostgres/PostgresTenantPool`` now does around a body),
/// and chained as futures on the loop (no task at all: the server round trip and the driver's work).
enum Hops {
    static func measure(connection: PostgresConnection, schema: String, selects: Int, logger: Logger) async throws -> [Comparison] {
        let executor = LoopExecutor(connection.eventLoop)
        let query: @Sendable (Int) -> PostgresQuery = { index in
            PostgresQuery(unsafeSQL: "SELECT id, title FROM \(schema)items WHERE id = \(index % 100 + 1)")
        }
        let fromTask: (Int) async throws -> Void = { index in
            let rows = try await connection.query(query(index), logger: logger)
            for try await _ in rows {}
        }
        let onLoop: (Int) async throws -> Void = { index in
            try await withTaskExecutorPreference(executor) {
                let rows = try await connection.query(query(index), logger: logger)
                for try await _ in rows {}
            }
        }
        var comparisons = [
            try await compare("postgres_hops_task_vs_loop_pk_select", rounds: 4, iterations: selects, warmup: 200, tenanted: fromTask, baseline: onLoop)
        ]
        // Futures only: each select starts from the previous one's callback on the loop, timed there.
        let loop = connection.eventLoop
        let samples = Samples()
        try await loop.flatSubmit { () -> EventLoopFuture<Void> in
            let clock = ContinuousClock()
            @Sendable func step(_ index: Int) -> EventLoopFuture<Void> {
                guard index < selects + 200 else { return loop.makeSucceededVoidFuture() }
                let started = clock.now
                let result: EventLoopFuture<PostgresQueryResult> = connection.query(query(index), logger: logger)
                return result.flatMap { _ in
                    if index >= 200 { samples.values.withLock { $0.append(nanoseconds(started.duration(to: clock.now))) } }
                    return step(index + 1)
                }
            }
            return step(0)
        }.get()
        let futures = summary(samples.values.withLock { $0 })
        let loopSeries = comparisons[0].baseline
        comparisons.append(Comparison(name: "postgres_hops_loop_vs_futures_pk_select", tenanted: loopSeries, baseline: futures))
        return comparisons
    }

    static func summary(_ samples: [Double]) -> Summary {
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        let median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        let p99 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
        return Summary(iterations: sorted.count, medianMicros: median / 1000, p99Micros: p99 / 1000,
                       meanMicros: sorted.reduce(0, +) / Double(sorted.count) / 1000)
    }
}

final class Samples: Sendable {
    let values = Mutex<[Double]>([])
}

/// An event loop as a `TaskExecutor` (as TenantedPostgres' own, which is not public).
final class LoopExecutor: TaskExecutor {
    let eventLoop: any EventLoop
    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
