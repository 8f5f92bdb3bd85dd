import TenantedTestSupport
import SQLiteNIO
import Tenanted
import TenantedSQLite
import Testing

@Suite("SQLite pool: closing")
struct SQLitePoolCloseTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test("close waits for a running write to finish, and the pool refuses work afterwards")
    func closeWaitsForRunningWork() async throws {
        let store = try directory.store()
        let acme = try TenantID("acme")
        try await store.create(acme) { pool in
            try await pool.write { _ = try await $0.query("CREATE TABLE t (x)") }
        }
        let pool = try await store.open(acme)
        let log = Locked<[String]>([])

        let outcome = try await withGuard("a write racing close") {
            let started = Gate()
            async let write = pool.write { connection -> (Int?, SQLiteConnection) in
                _ = try await connection.query("BEGIN IMMEDIATE")
                _ = try await connection.query("INSERT INTO t VALUES (1)")
                started.open()
                // A second borrower of the single writer queues until close() turns it away: from
                // then on, close is running while this write is still in progress.
                let refused = await #expect(throws: TenantedError.self) { try await pool.write { _ in } }
                #expect(refused?.code == .shutdown)
                _ = try await connection.query(
                    "INSERT INTO t SELECT value FROM (WITH RECURSIVE n(value) AS (SELECT 2 UNION ALL SELECT value + 1 FROM n WHERE value < 20000) SELECT value FROM n)"
                )
                _ = try await connection.query("COMMIT")
                log.append("write finished")
                return (try await connection.scalar("SELECT count(*) FROM t")?.integer.map { Int($0) }, connection)
            }
            await started.wait()
            await pool.close()
            log.append("close returned")
            return try await write
        }
        let (count, connection) = try #require(outcome)
        #expect(count == 20000)
        #expect(log.value == ["write finished", "close returned"])
        #expect(connection.isClosed)

        let write = await #expect(throws: TenantedError.self) { try await pool.write { _ in } }
        #expect(write?.code == .shutdown)
        #expect(write?.tenant == acme)
        let read = await #expect(throws: TenantedError.self) { try await pool.read { _ in } }
        #expect(read?.code == .shutdown)

        // The write committed before the pool closed.
        let reopened = try await store.open(acme)
        let stored = try await reopened.read { try await $0.scalar("SELECT count(*) FROM t")?.integer }
        await store.close(reopened)
        #expect(stored == 20000)
    }

    @Test("close closes every idle connection and can be called twice")
    func closeIdle() async throws {
        let (_, pool, connections) = try await openWithAllConnections()
        await pool.close()
        #expect(connections.allSatisfy { $0.isClosed })
        await pool.close()
        // The last connection closed folds the WAL back into the database file.
        #expect(!directory.exists("storage/tenants/acme/main.sqlite3-wal"))
    }

    @Test("a pool closed from a cancelled task still closes every connection")
    func closeFromACancelledTask() async throws {
        let (store, pool, connections) = try await openWithAllConnections()
        // As when a sibling `async let` fails: the task that closes the pool is already cancelled.
        // sqlite-nio's own close refuses to run in a cancelled task; an unclosed connection traps
        // when deallocated, so this test would crash the process without the fix.
        let closer = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            #expect(Task.isCancelled)
            await store.close(pool)
        }
        await closer.value
        #expect(connections.allSatisfy { $0.isClosed })
    }

    /// A new tenant's pool with its writer and both readers opened (and idle again).
    private func openWithAllConnections() async throws -> (SQLiteStore, SQLitePool, [SQLiteConnection]) {
        let store = try directory.store()
        let acme = try TenantID("acme")
        try await store.create(acme) { _ in }
        let pool = try await store.open(acme)
        let connections = try await pool.write { writer in
            try await pool.read { first in try await pool.read { second in [writer, first, second] } }
        }
        return (store, pool, connections)
    }
}
