import FluentKit
import PostgresNIO
import Tenanted
import TenantedFluent
import TenantedFluentPostgres
@testable import TenantedPostgres
import TenantedTestSupport
import Testing

/// FluentPostgresDriver leases connections from a tenant pool's client itself, so its queries miss
/// the closed-connection check of `PostgresTenantPool.withConnection`: with postgres-nio 1.33 a
/// query written to a connection the server had just closed (a destroy in another process) was never
/// answered, and the request waited for ever (seen: the Vapor demo on `postgres-database`, writes
/// during another process's destroy, one request with no answer). Such operations are now failed
/// when the pool learns the tenant is gone.
///
/// A lost write cannot be made on demand, so the test holds a Fluent query on its connection
/// another way: behind a table lock. With a shared pool the pool's client keeps running when the
/// tenant is retired (it serves other tenants), so nothing but the retirement can end the wait.
@Suite(.enabled(if: PostgresTestServer.url != nil, PostgresTestServer.unsetReason))
struct FluentOperationRetirementTests {
    @Test("a Fluent query waiting on its connection fails with tenantNotFound as soon as the pool learns the tenant is gone")
    func aWaitingQueryFailsWhenThePoolLearnsTheTenantIsGone() async throws {
        let stores = try PostgresTestStores(layout: .schemaPerTenant(.sharedPool))
        let acme = try TenantID("acme")
        try await ItemsTenancy.with(stores) { items in
            try await items.tenancy.createTenant(acme)
            try await items.insert(1, into: acme)
            let pool = try await items.tenancy.withTenant(acme) { try #require(Tenant.lease?.pool as? PostgresTenantPool) }
            let table = "\"\(pool.schema)\".items"
            let outcome = try await PostgresTestStores.withConnection(to: try PostgresTestServer.primary(), database: pool.database) { locker in
                _ = try await locker.query(PostgresQuery(unsafeSQL: "BEGIN"), logger: .silent)
                _ = try await locker.query(PostgresQuery(unsafeSQL: "LOCK TABLE \(table) IN ACCESS EXCLUSIVE MODE"), logger: .silent)
                // A model query: Fluent's own query path (`execute(query:)`), not raw SQL.
                let read = Task {
                    await Swift.Result {
                        try await items.tenancy.withTenant(acme) {
                            let database = items.databases.database(logger: .silent, on: items.store.eventLoopGroup.any())!
                            _ = try await Item.query(on: database).all()
                        }
                    }
                }
                let waiting = try await Self.waitForALockWait(on: locker)
                pool.invalidate(gone: true)
                // Still holding the lock: only the retirement can end the read now.
                let result = try await withGuard("the waiting Fluent query after its tenant was retired", limit: .seconds(30)) { await read.value }
                _ = try await locker.query(PostgresQuery(unsafeSQL: "ROLLBACK"), logger: .silent)
                return (waiting, result)
            }
            #expect(outcome.0, "the Fluent query was waiting for the lock before the pool was retired")
            let result = try #require(outcome.1, "the waiting query still waited after its tenant was retired")
            let error = #expect(throws: TenantedError.self) { try result.get() }
            #expect(error?.code == .tenantNotFound, "\(String(describing: error))")
        }
    }

    /// Whether another session waits for a lock within 30 s (a loaded machine).
    private static func waitForALockWait(on connection: PostgresConnection) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            // Outside the locker's transaction's snapshot: pg_stat_activity is read afresh per statement
            // only after clearing the snapshot.
            _ = try await connection.query("SELECT pg_stat_clear_snapshot()", logger: .silent)
            let rows = try await connection.query(
                "SELECT count(*)::int FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%items%' AND pid <> pg_backend_pid()",
                logger: .silent
            )
            for try await count in rows.decode(Int.self) where count > 0 { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}

/// A row of the `items` table of ``ItemsTenancy``, as a Fluent model.
private final class Item: Model, @unchecked Sendable {
    static let schema = "items"
    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "value") var value: Int
}
