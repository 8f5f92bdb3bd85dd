import NIOCore
import NIOPosix
import SQLiteNIO
import Tenanted
import TenantedSQLite
import TenantedTestSupport
import Testing

/// `SQLitePool.withIdleConnection(forWriting:_:)`, the future-based path without a task, against
/// the tenant's writer lock that another pool of the tenant (another process's) may hold.
@Suite("SQLite pool: a connection lent without a task")
struct SQLitePoolIdleConnectionTests {
    let directory: TemporaryDirectory
    let acme = try! TenantID("acme")

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// Runs `body` with two pools of `acme` (holding table `t`, one row: 0), as two processes have,
    /// and closes both when it ends, returned or thrown.
    private func withTwoPools(_ body: (_ holder: SQLitePool, _ contender: SQLitePool) async throws -> Void) async throws {
        let store = try directory.store { $0.busyTimeout = .seconds(30) }
        try await store.create(acme) { pool in
            try await pool.write { try await $0.execute(["CREATE TABLE t (x)", "INSERT INTO t VALUES (0)"]) }
        }
        let pools = OpenPools(store)
        try await pools.closingAll {
            try await body(try await pools.open(acme), try await pools.open(acme))
        }
    }

    @Test("while another pool writes, a write without a task is not started (nil) and the writer is given back; reads are lent as before")
    func anotherPoolsWriteSendsTheWriteToTheWaitingPath() async throws {
        try await withTwoPools { holder, contender in
            let outcome = try await withGuard("a write without a task while another pool writes") {
                let holding = Gate(), release = Gate()
                async let held: Void = holder.write { connection in
                    _ = try await connection.query("BEGIN IMMEDIATE")
                    _ = try await connection.query("INSERT INTO t VALUES (1)")
                    holding.open()
                    await release.wait()
                    _ = try await connection.query("COMMIT")
                }
                await holding.wait()
                let ran = Locked(false)
                let write = try contender.withIdleConnection(forWriting: true) { connection -> EventLoopFuture<[SQLiteRow]> in
                    ran.withLock { $0 = true }
                    return connection.query("INSERT INTO t VALUES (2)", [])
                }
                // A read never waits for the writer lock: the idle writer is lent, and sees what is committed.
                let read = try contender.withIdleConnection(forWriting: false) { connection -> EventLoopFuture<[SQLiteRow]> in
                    connection.query("SELECT count(*) AS n FROM t", [])
                }
                let seen = try await read?.get().first?.column("n")?.integer
                release.open()
                try await held
                // Given back: the same pool writes through the future path, then through the waiting one.
                let later = try contender.withIdleConnection(forWriting: true) { connection -> EventLoopFuture<[SQLiteRow]> in
                    connection.query("INSERT INTO t VALUES (3)", [])
                }
                _ = try await later?.get()
                try await contender.write { _ = try await $0.query("INSERT INTO t VALUES (4)") }
                return (write == nil, ran.value, seen, later != nil)
            }
            let (refused, ran, seen, wroteLater) = try #require(outcome)
            #expect(refused, "the write was started although another pool held the writer lock")
            #expect(!ran)
            #expect(seen == 1)
            #expect(wroteLater)
            let rows = try await contender.read { try await $0.query("SELECT x FROM t ORDER BY x") }
            #expect(rows.compactMap { $0.column("x")?.integer } == [0, 1, 3, 4])
        }
    }

    @Test("a write without a task holds the tenant's writer lock until its future completes: another pool's write waits for it")
    func theWriterLockIsHeldUntilTheFutureCompletes() async throws {
        try await withTwoPools { holder, contender in
            let order = try await withGuard("another pool's write behind a write without a task") {
                let order = Locked<[String]>([])
                let finish = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: Void.self)
                let started = try #require(
                    try contender.withIdleConnection(forWriting: true) { connection -> EventLoopFuture<Void> in
                        connection.query("INSERT INTO t VALUES (1)", []).flatMap { _ in finish.futureResult }
                    }
                )
                async let other: Void = holder.write { connection in
                    order.append("other pool's write")
                    _ = try await connection.query("INSERT INTO t VALUES (2)")
                }
                try await Task.sleep(for: .milliseconds(300))
                order.append("future completed")
                finish.succeed()
                try await started.get()
                try await other
                return order.value
            }
            #expect(order == ["future completed", "other pool's write"])
            #expect(try await holder.read { try await $0.scalar("SELECT count(*) FROM t") }?.integer == 3)
        }
    }
}
