import FluentKit
import Foundation
import Logging
import PostgresNIO
import SQLKit
import Tenanted
import TenantedFluent
import TenantedFluentPostgres
import TenantedPostgres
import TenantedTestSupport
import Testing

/// The fail-closed checks of the schema in effect, on a direct connection (the pooler cases are in
/// `PoolerTests`): a migration batch checks in its own transaction that it runs in its tenant's
/// database and schema; the pool-per-tenant layout checks once per pool open, never per query.
@Suite(.enabled(if: PostgresTestServer.url != nil, PostgresTestServer.unsetReason))
struct SchemaCheckTests {
    /// The migration lock refuses a transaction that runs in another tenant's schema or database
    /// (here: acme's database handed over as globex's), and passes in the tenant's own.
    @Test(arguments: TestLayout.allCases)
    func migrationsCheckTheSchemaInEffectInTheirTransaction(layout: TestLayout) async throws {
        let stores = try PostgresTestStores(layout: layout.layout)
        let store = try stores.makeStore()
        let tenancy = try Tenancy(store: store, logger: .silent)
        let databases = Databases(threadPool: .singleton, on: store.eventLoopGroup)
        databases.use(.tenanted(tenancy), as: .tenanted, isDefault: true)
        let acme = try TenantID("acme")
        let globex = try TenantID("globex")
        try await withTeardown {
            try await tenancy.createTenant(acme)
            try await tenancy.createTenant(globex)
            try await tenancy.withTenant(acme) {
                let database = try #require(databases.database(logger: .silent, on: store.eventLoopGroup.any()))
                try await database.transaction { transaction in
                    try await store.lockMigrations(on: transaction as! any SQLDatabase, tenant: acme)
                }
                await expectTenantedError(.invalidConfiguration) {
                    try await database.transaction { transaction in
                        try await store.lockMigrations(on: transaction as! any SQLDatabase, tenant: globex)
                    }
                }
            }
        } teardown: {
            await databases.shutdownAsync()
            await tenancy.shutdown()
            await stores.cleanUp()
        }
    }

    /// The cost of the check: one connection and one query at each pool open, nothing on a
    /// warm query (the query path is unchanged). Prints the figures — a pool open through the store
    /// (catalog lookup, connect, check, first query) against a bare client making the same
    /// connection and first query — and asserts only correctness.
    @Test func theCheckCostsOneConnectionPerPoolOpenAndNothingPerQuery() async throws {
        var server = try PostgresTestServer.primary()
        server.tls = .disable
        let stores = try PostgresTestStores(layout: .schemaPerTenant(.poolPerTenant), servers: [server])
        let store = try stores.makeStore()
        let tenancy = try Tenancy(store: store, logger: .silent)
        let acme = try TenantID("acme")
        let schema = stores.prefix + "acme"
        let clock = ContinuousClock()
        try await withTeardown {
            try await tenancy.createTenant(acme)
            var opens: [Duration] = []
            var bare: [Duration] = []
            for _ in 0..<20 {
                var start = clock.now
                let pool = try await store.open(acme)
                let checked = try await pool.withConnection { try await Self.currentSchema($0) }
                opens.append(clock.now - start)
                #expect(checked == schema)
                await store.close(pool)

                start = clock.now
                var configuration = PostgresClient.Configuration(
                    host: server.host, port: server.port, username: server.username, password: server.password,
                    database: server.database, tls: .disable
                )
                configuration.options.additionalStartupParameters = [("search_path", "\"\(schema)\"")]
                let client = PostgresClient(configuration: configuration)
                let running = Task { await client.run() }
                let unchecked = try await client.withConnection { try await Self.currentSchema($0) }
                bare.append(clock.now - start)
                #expect(unchecked == schema)
                running.cancel()
                await running.value
            }
            // The check query alone, on a warm connection: what an open adds.
            let pool = try await store.open(acme)
            var checks: [Duration] = []
            var warm: [Duration] = []
            try await pool.withConnection { connection in
                for _ in 0..<500 {
                    var start = clock.now
                    _ = try await connection.query("SELECT current_setting('search_path'), current_schema()::text", logger: .silent).collect()
                    checks.append(clock.now - start)
                    start = clock.now
                    _ = try await connection.query("SELECT 1", logger: .silent).collect()
                    warm.append(clock.now - start)
                }
            }
            await store.close(pool)
            func median(_ values: [Duration]) -> Duration { values.sorted()[values.count / 2] }
            print("schema check cost: store pool open + first query \(median(opens)) vs bare client connect + first query \(median(bare)) (medians of 20); the check query \(median(checks)), a warm SELECT 1 \(median(warm)) (medians of 500); a warm query runs no check")
            #expect(opens.count == 20 && bare.count == 20 && checks.count == 500)
        } teardown: {
            await tenancy.shutdown()
            await stores.cleanUp()
        }
    }

    static func currentSchema(_ connection: PostgresConnection) async throws -> String {
        var value = ""
        for try await name in try await connection.query("SELECT current_schema()::text", logger: .silent).decode(String.self) { value = name }
        return value
    }
}
