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

    @Test("a writer blocked by another pool's write lock waits out the busy timeout, then fails with SQLITE_BUSY")
    func busyTimeoutIsAFiniteWait() async throws {
        let store = try directory.store { $0.busyTimeout = .milliseconds(300) }
        let acme = try TenantID("acme")
        try await store.create(acme) { pool in
            try await pool.write { _ = try await $0.query("CREATE TABLE t (x)") }
        }
        // Two pools of one tenant, as two processes would have.
        let holder = try await store.open(acme)
        let contender = try await store.open(acme)

        let outcome = try await withGuard("the blocked BEGIN IMMEDIATE") {
            let holding = Gate()
            let contended = Gate()
            async let held: Void = holder.write { connection in
                _ = try await connection.query("BEGIN IMMEDIATE")
                _ = try await connection.query("INSERT INTO t VALUES (1)")
                holding.open()
                // Keep the write lock until the contender has given up (or the guard gave up on it).
                _ = await contended.wait(atMost: .seconds(20))
                _ = try await connection.query("ROLLBACK")
            }
            await holding.wait()
            let start = ContinuousClock.now
            let result = await Swift.Result(catching: {
                try await contender.write { connection in
                    _ = try await connection.query("BEGIN IMMEDIATE")
                    _ = try await connection.query("ROLLBACK")
                }
            })
            let waited = ContinuousClock.now - start
            contended.open()
            try await held
            return (result, waited)
        }
        let (result, waited) = try #require(outcome)
        #expect(throws: SQLiteError.self) { try result.get() }
        if case .failure(let error as SQLiteError) = result {
            #expect(error.reason == .busy)
        }
        // It slept for the timeout instead of failing at once.
        #expect(waited >= .milliseconds(200))

        // Once the lock is free, the same pool writes normally.
        try await contender.write { _ = try await $0.query("INSERT INTO t VALUES (2)") }
        await store.close(holder)
        await store.close(contender)
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
        let pool = try await store.open(acme)
        let count = try await pool.write { writer in
            _ = try await writer.query("BEGIN IMMEDIATE")
            _ = try await writer.query("INSERT INTO t VALUES (2)")
            // WAL: the reader sees the last committed state, without waiting.
            let seen = try await pool.read { try await $0.scalar("SELECT count(*) FROM t")?.integer }
            _ = try await writer.query("COMMIT")
            return seen
        }
        #expect(count == 1)
        await store.close(pool)
    }
}
