import NIOPosix
import TenantedTestSupport
import SQLiteNIO
import Tenanted
import TenantedSQLite
import Testing

@Suite("SQLite store: busy timeout")
struct SQLiteBusyTimeoutTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test("a write waiting for another pool's write waits as a task up to the busy timeout, then fails with storeFailure, not started")
    func anotherPoolsWriteIsWaitedForUpToTheBusyTimeout() async throws {
        let (store, acme) = try await storeWithTenant(busyTimeout: .milliseconds(300))
        let pools = OpenPools(store)
        try await pools.closingAll {
            // Two pools of one tenant, as two processes would have.
            let holder = try await pools.open(acme)
            let contender = try await pools.open(acme)

            let outcome = try await withGuard("the write waiting for another pool's write") {
                let holding = Gate()
                let contended = Gate()
                async let held: Void = holder.write { connection in
                    _ = try await connection.query("INSERT INTO t VALUES (1)")
                    holding.open()
                    // Keep the write until the contender has given up (or the guard gave up on it).
                    _ = await contended.wait(atMost: .seconds(20))
                }
                await holding.wait()
                let start = ContinuousClock.now
                let ran = Locked(false)
                let result = await Swift.Result(catching: {
                    try await contender.write { connection in
                        ran.withLock { $0 = true }
                        _ = try await connection.query("INSERT INTO t VALUES (2)")
                    }
                })
                let waited = ContinuousClock.now - start
                contended.open()
                try await held
                return (result, waited, ran.value)
            }
            let (result, waited, ran) = try #require(outcome)
            let error = #expect(throws: TenantedError.self) { try result.get() }
            #expect(error?.code == .storeFailure)
            #expect(error?.tenant == acme)
            #expect(error?.message.contains("busy timeout") == true, "\(String(describing: error))")
            // It waited for the timeout instead of failing at once, and never started its body.
            #expect(waited >= .milliseconds(250))
            #expect(!ran)

            // Once the other write is over, the same pool writes normally; only the holder's row and this one are in.
            try await contender.write { _ = try await $0.query("INSERT INTO t VALUES (3)") }
            let rows = try await contender.read { try await $0.query("SELECT x FROM t ORDER BY x") }
            #expect(rows.compactMap { $0.column("x")?.integer } == [1, 3])
        }
    }

    @Test("a write waiting for another pool's write goes ahead as soon as that write ends")
    func anotherPoolsWriteIsWaitedForUntilItEnds() async throws {
        let (store, acme) = try await storeWithTenant(busyTimeout: .seconds(30))
        let pools = OpenPools(store)
        try await pools.closingAll {
            let holder = try await pools.open(acme)
            let contender = try await pools.open(acme)
            let order = try await withGuard("two pools' writes, one after the other") {
                let order = Locked<[String]>([])
                let holding = Gate()
                async let held: Void = holder.write { connection in
                    _ = try await connection.query("BEGIN IMMEDIATE")
                    holding.open()
                    try await Task.sleep(for: .milliseconds(200))
                    _ = try await connection.query("INSERT INTO t VALUES (1)")
                    _ = try await connection.query("COMMIT")
                    order.withLock { $0.append("holder") }
                }
                await holding.wait()
                try await contender.write { connection in
                    order.withLock { $0.append("contender") }
                    _ = try await connection.query("INSERT INTO t VALUES (2)")
                }
                try await held
                return order.value
            }
            #expect(order == ["holder", "contender"])
            #expect(try await contender.read { try await $0.query("SELECT count(*) AS n FROM t") }.first?.column("n")?.integer == 2)
        }
    }

    @Test("a write lock taken outside Tenanted makes a statement wait out SQLite's busy timeout, then fail with SQLITE_BUSY")
    func aForeignLockIsWaitedForInSQLite() async throws {
        let (store, acme) = try await storeWithTenant(busyTimeout: .milliseconds(300))
        let pools = OpenPools(store)
        try await pools.closingAll {
            let contender = try await pools.open(acme)
            // The sqlite3 shell, say: a connection that is not Tenanted's, holding the write lock.
            let foreign = try await SQLiteConnection.open(
                storage: .file(path: store.databasePath(for: acme)), threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton.any()
            )
            _ = try await foreign.query("BEGIN IMMEDIATE")
            let start = ContinuousClock.now
            let result = await Swift.Result(catching: {
                try await contender.write { _ = try await $0.query("INSERT INTO t VALUES (1)") }
            })
            let waited = ContinuousClock.now - start
            _ = try await foreign.query("ROLLBACK")
            try await foreign.close()
            #expect(throws: SQLiteError.self) { try result.get() }
            if case .failure(let error as SQLiteError) = result {
                #expect(error.reason == .busy)
            }
            #expect(waited >= .milliseconds(200))
            try await contender.write { _ = try await $0.query("INSERT INTO t VALUES (2)") }
        }
    }

    /// A store with the given busy timeout and tenant `acme` holding an empty table `t`.
    private func storeWithTenant(busyTimeout: Duration) async throws -> (SQLiteStore, TenantID) {
        let store = try directory.store { $0.busyTimeout = busyTimeout }
        let acme = try TenantID("acme")
        try await store.create(acme) { pool in
            try await pool.write { _ = try await $0.query("CREATE TABLE t (x)") }
        }
        return (store, acme)
    }

    @Test("a reader sees the last committed data while a write transaction is open")
    func readersSeeCommittedData() async throws {
        let store = try directory.store { $0.busyTimeout = .milliseconds(300) }
        let acme = try TenantID("acme")
        try await store.create(acme) { pool in
            try await pool.write { connection in
                try await connection.execute(["CREATE TABLE t (x)", "INSERT INTO t VALUES (1)"])
            }
        }
        let pools = OpenPools(store)
        let count = try await pools.closingAll {
            let pool = try await pools.open(acme)
            return try await pool.write { writer in
                _ = try await writer.query("BEGIN IMMEDIATE")
                _ = try await writer.query("INSERT INTO t VALUES (2)")
                // WAL: the reader sees the last committed state, without waiting.
                let seen = try await pool.read { try await $0.scalar("SELECT count(*) FROM t")?.integer }
                _ = try await writer.query("COMMIT")
                return seen
            }
        }
        #expect(count == 1)
    }
}
