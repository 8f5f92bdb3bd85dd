import Tenanted
import TenantedFluentPostgres
import TenantedPostgres
import TenantedStoreConformance
import TenantedTestSupport
import Testing

/// The store conformance suite (shared with SQLite) against a real PostgreSQL server, for each
/// layout: a database per tenant, a schema per tenant with a pool per tenant, and a schema per
/// tenant over one shared pool.
@Suite(.enabled(if: PostgresTestServer.url != nil, PostgresTestServer.unsetReason))
struct PostgresConformanceTests {
    @Test(arguments: TestLayout.allCases) func lifecycle(layout: TestLayout) async throws {
        try await run(layout) { try await $0.lifecycle() }
    }

    @Test(arguments: TestLayout.allCases) func inventory(layout: TestLayout) async throws {
        try await run(layout) { try await $0.inventory() }
    }

    @Test(arguments: TestLayout.allCases) func migrations(layout: TestLayout) async throws {
        try await run(layout) { try await $0.migrations() }
    }

    @Test(arguments: TestLayout.allCases) func isolation(layout: TestLayout) async throws {
        try await run(layout) { try await $0.isolation() }
    }

    @Test(arguments: TestLayout.allCases) func evictionUnderLoad(layout: TestLayout) async throws {
        try await run(layout) { try await $0.evictionUnderLoad() }
    }

    @Test(arguments: TestLayout.allCases) func concurrentCreate(layout: TestLayout) async throws {
        try await run(layout) { try await $0.concurrentCreate() }
    }

    @Test(arguments: TestLayout.allCases) func hostileNames(layout: TestLayout) async throws {
        try await run(layout) { try await $0.hostileNames() }
    }

    private func run(_ layout: TestLayout, _ check: @escaping @Sendable (StoreConformance<PostgresStore>) async throws -> Void) async throws {
        let stores = try PostgresTestStores(layout: layout.layout)
        // A check that hangs fails with its name after five minutes instead of stalling the run.
        _ = try await withGuard("postgres-\(layout) conformance check", limit: .seconds(300)) {
            try await withTeardown {
                try await check(StoreConformance(name: "postgres-\(layout)") { try stores.makeStore() })
            } teardown: {
                await stores.cleanUp()
            }
        }
    }
}
