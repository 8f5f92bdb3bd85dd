import FluentKit
import Logging
import PostgresNIO
import SQLKit
import Tenanted
import TenantedFluent
import TenantedFluentPostgres
import TenantedPostgres
import TenantedTestSupport
import Testing

/// Schema per tenant must never depend on session state another request could see: every query of
/// every tenant runs in that tenant's schema, however the pools interleave.
@Suite(.enabled(if: PostgresTestServer.url != nil, PostgresTestServer.unsetReason))
struct SchemaIsolationTests {
    /// The default mode (a pool per tenant, `search_path` as a startup parameter), and the shared
    /// pool (`SET LOCAL` in a transaction): 6 tenants, pools of 2 connections (a shared pool of 2 for
    /// all), 240 interleaved queries through Fluent, each checking `current_schema()`.
    @Test(arguments: [TestLayout.schema, .sharedSchema])
    func everyQueryRunsInItsTenantsSchema(layout: TestLayout) async throws {
        let stores = try PostgresTestStores(layout: layout.layout)
        var configuration = stores.configuration(maximumConnectionsPerTenant: 2)
        configuration.maximumSharedConnections = 2
        let store = try PostgresStore(configuration: configuration)
        let tenancy = try Tenancy(store: store, logger: .silent)
        let databases = Databases(threadPool: .singleton, on: store.eventLoopGroup)
        databases.use(.tenanted(tenancy), as: .tenanted, isDefault: true)
        let tenants = try (0..<6).map { try TenantID("s\($0)") }
        try await withTeardown {
            for tenant in tenants { try await tenancy.createTenant(tenant) }
            let wrong = Locked(0)
            let checked = Locked(0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<12 {
                    group.addTask {
                        for step in 0..<20 {
                            let tenant = tenants[(worker + step) % tenants.count]
                            let schema = try await tenancy.withTenant(tenant) {
                                let sql = try #require(databases.database(logger: .silent, on: store.eventLoopGroup.any()) as? any SQLDatabase)
                                // Alternate plain statements and transactions.
                                if step.isMultiple(of: 2) {
                                    return try await sql.raw("SELECT current_schema() AS s").first()?.decode(column: "s", as: String.self)
                                }
                                let database = try #require(sql as? any Database)
                                return try await database.transaction { transaction in
                                    try await (transaction as! any SQLDatabase).raw("SELECT current_schema() AS s").first()?.decode(column: "s", as: String.self)
                                }
                            }
                            checked.withLock { $0 += 1 }
                            if schema != store.configuration.prefix + tenant.rawValue { wrong.withLock { $0 += 1 } }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(checked.value == 240)
            #expect(wrong.value == 0, "\(wrong.value) of 240 queries ran in another schema")

            // No session keeps a tenant's search_path after its work: a connection of the server
            // straight from the pooler's point of view shows the default path.
            try await PostgresTestStores.withConnection(to: stores.servers[0]) { connection in
                for try await path in try await connection.query("SHOW search_path", logger: .silent).decode(String.self) {
                    #expect(path == "\"$user\", public")
                }
            }
            // The default mode never sets search_path on a session: the pool's connections were born in it.
            if case .schemaPerTenant(.poolPerTenant) = layout.layout {
                let path = try await tenancy.withTenant(tenants[0]) {
                    try await tenancy.currentPool(as: PostgresTenantPool.self).withConnection { connection in
                        var value = ""
                        for try await path in try await connection.query("SHOW search_path", logger: .silent).decode(String.self) { value = path }
                        return value
                    }
                }
                #expect(path == "\"\(store.configuration.prefix)s0\"" || path == "\(store.configuration.prefix)s0")
            }
        } teardown: {
            await databases.shutdownAsync()
            await tenancy.shutdown()
            await stores.cleanUp()
        }
    }
}
