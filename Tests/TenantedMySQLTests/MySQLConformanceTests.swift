import Tenanted
import TenantedFluentMySQL
import TenantedMySQL
import TenantedStoreConformance
import TenantedTestSupport
import Testing

/// The store conformance suite (shared with SQLite and PostgreSQL) against a real MariaDB server.
@Suite(.enabled(if: MySQLTestServer.url != nil, MySQLTestServer.unsetReason))
struct MySQLConformanceTests {
    @Test func lifecycle() async throws {
        try await run { try await $0.lifecycle() }
    }

    @Test func inventory() async throws {
        try await run { try await $0.inventory() }
    }

    @Test func migrations() async throws {
        try await run { try await $0.migrations() }
    }

    @Test func isolation() async throws {
        try await run { try await $0.isolation() }
    }

    @Test func evictionUnderLoad() async throws {
        try await run { try await $0.evictionUnderLoad() }
    }

    @Test func concurrentCreate() async throws {
        try await run { try await $0.concurrentCreate() }
    }

    @Test func hostileNames() async throws {
        try await run { try await $0.hostileNames() }
    }

    private func run(_ check: (StoreConformance<MySQLStore>) async throws -> Void) async throws {
        let stores = MySQLTestStores()
        try await withTeardown {
            try await check(StoreConformance(name: "mysql") { try stores.makeStore() })
        } teardown: {
            await stores.cleanUp()
        }
    }
}
