import PostgresNIO
import Tenanted
import TenantedPostgres
import TenantedTestSupport
import Testing

/// The placement catalog's set-up (`tenanted.placements`, once per store instance in every
/// process) takes a transaction lock only while the catalog is missing or older. Once it is in
/// place, a store finds it with one read: a process stalled inside a set-up transaction (seen in
/// loaded test runs: idle in transaction for 40 s with the lock held, every other process's first
/// request waiting behind it) can no longer hold up the others.
@Suite(.enabled(if: PostgresTestServer.url != nil, PostgresTestServer.unsetReason))
struct CatalogSetUpTests {
    @Test("a new store uses a catalog in place while another session holds the set-up lock")
    func aCatalogInPlaceNeedsNoLock() async throws {
        let stores = try PostgresTestStores(layout: .databasePerTenant())
        let first = try stores.makeStore()
        _ = try await first.tenants()  // the catalog is in place from here on
        await first.shutdown()
        let server = try PostgresTestServer.primary()
        try await PostgresTestStores.withConnection(to: server) { holder in
            try await holder.query("BEGIN", logger: .silent)
            try await holder.query("SELECT pg_advisory_xact_lock(hashtextextended('tenanted:catalog', 0))", logger: .silent)
            let store = try stores.makeStore()
            let listed = try await withGuard("a new store's first listing while the set-up lock is held", limit: .seconds(20)) {
                try await store.tenants()
            }
            #expect(listed == [], "the new store could not use the catalog while the lock was held")
            await store.shutdown()
            try await holder.query("ROLLBACK", logger: .silent)
        }
        await stores.cleanUp()
    }
}
