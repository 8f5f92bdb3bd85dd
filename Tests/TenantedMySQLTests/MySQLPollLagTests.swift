import Tenanted
@testable import TenantedMySQL
import TenantedTestSupport
import Testing

/// A MySQL change (destroy, suspend) waits two coherence intervals before it returns, counting on
/// every other process to poll the catalog once an interval. On a loaded machine a poll can fall
/// behind (CI saw a suspension missed by a second store's next scope); a store whose polls lag must
/// then not trust its pools.
@Suite(.enabled(if: MySQLTestServer.url != nil, MySQLTestServer.unsetReason))
struct MySQLPollLagTests {
    @Test("a store whose catalog polls stopped does not trust its warm pool: another store's suspension is refused at its next scope")
    func laggingPollsDoNotHideASuspension() async throws {
        let stores = MySQLTestStores()
        try await withTeardown {
            let first = try ItemsTenancy(store: stores.makeStore()), second = try ItemsTenancy(store: stores.makeStore())
            let acme = try TenantID("acme")
            try await first.tenancy.createTenant(acme)
            try await first.insert(1, into: acme)
            #expect(try await second.values(of: acme) == [1], "the second store has a warm pool")
            // The second store's poller stops, as one starved of threads would.
            await (try second.tenancy.store(as: MySQLStore.self)).watcher.stop()
            try await first.tenancy.suspend(acme, reason: "audit")
            let error = await #expect(throws: TenantedError.self) { _ = try await second.values(of: acme) }
            #expect(error?.code == .tenantSuspended, "the warm pool served a suspended tenant")
            await first.shutdown()
            await second.shutdown()
        } teardown: {
            await stores.cleanUp()
        }
    }
}
