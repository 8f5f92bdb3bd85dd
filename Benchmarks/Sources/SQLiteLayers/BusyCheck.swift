import BenchmarkSupport
import Foundation
import GRDB
import NIOCore
import NIOPosix
import SQLiteNIO
#if canImport(Glibc)
import Glibc
#endif

/// What happens to a second connection that wants to write while another one holds the write lock.
struct BusyOutcome: Codable, Sendable {
    var scenario: String
    var waitedMillis: Double
    var outcome: String
    /// Process CPU time spent while the second connection waited (the main task sleeps or awaits).
    var cpuMillisWhileWaiting: Double
}

enum BusyCheck {
    static let clock = ContinuousClock()

    /// A connection that takes and releases the write lock (`BEGIN IMMEDIATE` / `ROLLBACK`).
    struct Holder {
        var lock: () async throws -> Void
        var unlock: () async throws -> Void
    }

    static func run(path: String) async throws -> [BusyOutcome] {
        let nio = try await SQLiteNIO.SQLiteConnection.openApplyingPragmas(path: path)
        let nioHolder = Holder(
            lock: { _ = try await nio.query("BEGIN IMMEDIATE") },
            unlock: { _ = try await nio.query("ROLLBACK") })

        var holderConfiguration = GRDBLayer.configuration
        holderConfiguration.allowsUnsafeTransactions = true  // the lock outlives one access
        let grdb = try DatabaseQueue(path: path, configuration: holderConfiguration)
        let grdbHolder = Holder(
            lock: { try await grdb.writeWithoutTransaction { try $0.execute(sql: "BEGIN IMMEDIATE") } },
            unlock: { try await grdb.writeWithoutTransaction { try $0.execute(sql: "ROLLBACK") } })

        var outcomes: [BusyOutcome] = []
        outcomes.append(try await sqliteNIOWaiter(
            "sqlite-nio after PRAGMA busy_timeout = 5000, holder sqlite-nio", path: path, holder: nioHolder))
        outcomes.append(try await grdbWaiter(
            "GRDB busyMode = .timeout(5), holder GRDB", path: path, holder: grdbHolder))
        outcomes.append(try await sqliteNIODefaultHandler(path: path, holder: nioHolder))
        outcomes.append(try await grdbWaiter(
            "GRDB busyMode = .timeout(5), holder sqlite-nio (two SQLite copies in one process)",
            path: path, holder: nioHolder))
        try await nio.close()
        try grdb.close()
        return outcomes
    }

    private static func sqliteNIOWaiter(_ scenario: String, path: String, holder: Holder) async throws -> BusyOutcome {
        let waiter = try await SQLiteNIO.SQLiteConnection.openApplyingPragmas(path: path)
        let outcome = try await attempt(scenario, holder: holder) {
            _ = try await waiter.query("BEGIN IMMEDIATE")
            _ = try await waiter.query("ROLLBACK")
        }
        try await waiter.close()
        return outcome
    }

    private static func grdbWaiter(_ scenario: String, path: String, holder: Holder) async throws -> BusyOutcome {
        let waiter = try GRDBLayer(kind: .queue, synchronous: false).open(path)
        let outcome = try await attempt(scenario, holder: holder) {
            try await waiter.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                try db.execute(sql: "ROLLBACK")
            }
        }
        try waiter.close()
        return outcome
    }

    /// Takes the lock with `holder`, times `write`, which is expected to fail with SQLITE_BUSY.
    private static func attempt(
        _ scenario: String, holder: Holder, write: () async throws -> Void
    ) async throws -> BusyOutcome {
        try await holder.lock()
        let (start, cpuStart) = (clock.now, cpuTime())
        let outcome: String
        do {
            try await write()
            outcome = "GOT THE LOCK while the holder held it"
        } catch let error as SQLiteError {
            outcome = "failed: \(error.reason) (\(error.message))"
        } catch let error as DatabaseError {
            outcome = "failed: \(error.resultCode)"
        }
        let result = BusyOutcome(
            scenario: scenario,
            waitedMillis: nanoseconds(start.duration(to: clock.now)) / 1e6,
            outcome: outcome,
            cpuMillisWhileWaiting: (cpuTime() - cpuStart) * 1e3)
        try await holder.unlock()
        return result
    }

    /// sqlite-nio as opened, with its own busy handler (`{ _, _ in 1 }`: retry at once, forever).
    /// The waiter gets a thread pool of its own so that its spinning cannot starve the holder;
    /// the holder releases the lock after `patience`.
    private static func sqliteNIODefaultHandler(
        path: String, holder: Holder, patience: Duration = .seconds(2)
    ) async throws -> BusyOutcome {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let waiter = try await SQLiteNIO.SQLiteConnection.open(
            storage: .file(path: path), threadPool: pool, on: MultiThreadedEventLoopGroup.singleton.any())
        try await holder.lock()
        let (start, cpuStart) = (clock.now, cpuTime())
        let attempt = Task { () async throws -> ContinuousClock.Instant in
            _ = try await waiter.query("BEGIN IMMEDIATE")
            return clock.now
        }
        try await Task.sleep(for: patience)
        let cpuWhileBlocked = cpuTime() - cpuStart
        let releasedAt = clock.now
        try await holder.unlock()
        let outcome: String
        switch await attempt.result {
        case .success(let acquiredAt) where acquiredAt >= releasedAt:
            let after = nanoseconds(releasedAt.duration(to: acquiredAt)) / 1e6
            outcome = "still waiting after \(patience) (no timeout); got the lock "
                + String(format: "%.1f ms", after) + " after the holder rolled back"
            _ = try await waiter.query("ROLLBACK")
        case .success:
            outcome = "GOT THE LOCK while the holder held it"
            _ = try await waiter.query("ROLLBACK")
        case .failure(let error):
            outcome = "failed: \(error)"
        }
        let result = BusyOutcome(
            scenario: "sqlite-nio default busy handler (no busy_timeout), holder sqlite-nio",
            waitedMillis: nanoseconds(start.duration(to: clock.now)) / 1e6,
            outcome: outcome,
            cpuMillisWhileWaiting: cpuWhileBlocked * 1e3)
        try await waiter.close()
        try await pool.shutdownGracefully()
        return result
    }

    /// CPU seconds used by the whole process so far.
    private static func cpuTime() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
