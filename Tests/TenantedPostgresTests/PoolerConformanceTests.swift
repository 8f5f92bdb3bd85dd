import Tenanted
import TenantedFluentPostgres
import TenantedPostgres
import TenantedStoreConformance
import TenantedTestSupport
import Testing

/// The store conformance suite through PgBouncer in transaction and in session pooling, for the
/// layouts that serve behind it (database per tenant, shared-pool schema per tenant): lifecycle,
/// migrations, isolation, eviction under load, concurrent creates of one name from two stores
/// (exactly one wins), unusual names.
///
/// Serialized: every create holds a server connection of the pooler for its whole length (the
/// tenant lock's transaction), and session pooling one per client connection, so the connections
/// in use at once must stay below PgBouncer's pool size; the whole suite at once came close to it.
@Suite(.serialized, .enabled(if: PostgresTestServer.hasPgBouncers, PostgresTestServer.pgbouncerUnsetReason))
struct PoolerConformanceTests {
    static let layouts: [TestLayout] = [.database, .sharedSchema]

    @Test(arguments: Self.layouts, PoolingMode.allCases) func lifecycle(layout: TestLayout, mode: PoolingMode) async throws {
        try await run(layout, mode) { try await $0.lifecycle() }
    }

    @Test(arguments: Self.layouts, PoolingMode.allCases) func migrations(layout: TestLayout, mode: PoolingMode) async throws {
        try await run(layout, mode) { try await $0.migrations() }
    }

    @Test(arguments: Self.layouts, PoolingMode.allCases) func isolation(layout: TestLayout, mode: PoolingMode) async throws {
        try await run(layout, mode) { try await $0.isolation() }
    }

    @Test(arguments: Self.layouts, PoolingMode.allCases) func evictionUnderLoad(layout: TestLayout, mode: PoolingMode) async throws {
        try await run(layout, mode) { try await $0.evictionUnderLoad() }
    }

    @Test(arguments: Self.layouts, PoolingMode.allCases) func concurrentCreate(layout: TestLayout, mode: PoolingMode) async throws {
        try await run(layout, mode) { try await $0.concurrentCreate() }
    }

    @Test(arguments: Self.layouts, PoolingMode.allCases) func hostileNames(layout: TestLayout, mode: PoolingMode) async throws {
        try await run(layout, mode) { try await $0.hostileNames() }
    }

    private func run(_ layout: TestLayout, _ mode: PoolingMode, _ check: (StoreConformance<PostgresStore>) async throws -> Void) async throws {
        let stores = try PostgresTestStores(layout: layout.layout, servers: [try mode.server()])
        try await withTeardown {
            try await check(StoreConformance(name: "pgbouncer-\(mode)-\(layout)") { try stores.makeStore() })
        } teardown: {
            await stores.cleanUp()
        }
    }
}
