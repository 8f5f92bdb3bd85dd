import Logging
import PostgresNIO
import Tenanted
import TenantedPostgres
import TenantedTestSupport
import Testing

/// The shared pool's scope (`PostgresTenantPool.withConnection`): `BEGIN` and `SET LOCAL search_path`
/// are queued together ahead of the body's statements, so these check what the scope must still
/// guarantee on one shared connection: one transaction around the whole body, the tenant's schema for
/// every statement, a rollback when the body throws, and nothing left for the next tenant.
@Suite(.enabled(if: PostgresTestServer.url != nil, PostgresTestServer.unsetReason))
struct SharedPoolScopeTests {
    /// A shared pool of ONE connection, so that every use below takes the same session.
    private func withSharedPool(_ body: (Tenancy, PostgresStore, [TenantID]) async throws -> Void) async throws {
        let stores = try PostgresTestStores(layout: .schemaPerTenant(.sharedPool))
        var configuration = stores.configuration()
        configuration.maximumSharedConnections = 1
        let store = try PostgresStore(configuration: configuration)
        let tenancy = try Tenancy(store: store, logger: .silent)
        let tenants = try ["a", "b"].map { try TenantID($0) }
        try await withTeardown {
            for tenant in tenants { try await tenancy.createTenant(tenant) }
            try await body(tenancy, store, tenants)
        } teardown: {
            await tenancy.shutdown()
            await stores.cleanUp()
        }
    }

    private func use<Result: Sendable>(
        _ tenancy: Tenancy, _ tenant: TenantID, _ body: @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await tenancy.withTenant(tenant) {
            try await tenancy.currentPool(as: PostgresTenantPool.self).withConnection { try await body($0) }
        }
    }

    private static func text(_ sql: String, on connection: PostgresConnection) async throws -> String {
        var value = ""
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: .silent).decode(String.self) { value = row }
        return value
    }

    @Test func theWholeBodyIsOneTransactionInTheTenantsSchema() async throws {
        try await withSharedPool { tenancy, store, tenants in
            let seen = try await use(tenancy, tenants[0]) { connection in
                let first = try await Self.text("SELECT now()::text", on: connection)
                _ = try await Self.text("SELECT pg_sleep(0.02)::text", on: connection)
                let second = try await Self.text("SELECT now()::text", on: connection)
                let schema = try await Self.text("SELECT current_schema()::text", on: connection)
                let inBlock = try await Self.text("SELECT (now() <> statement_timestamp())::text", on: connection)
                return [first, second, schema, inBlock]
            }
            #expect(seen[0] == seen[1], "now() changed between two statements of one scope: no transaction around the body")
            #expect(seen[2] == store.configuration.prefix + "a")
            #expect(seen[3] == "true", "the body's statements did not run in a transaction block")
        }
    }

    @Test func aThrowingBodyRollsBackAndTheNextTenantStartsClean() async throws {
        struct Refused: Error {}
        try await withSharedPool { tenancy, store, tenants in
            _ = try await use(tenancy, tenants[0]) { connection in
                try await connection.query("CREATE TABLE items (id int)", logger: .silent)
            }
            await #expect(throws: Refused.self) {
                try await use(tenancy, tenants[0]) { connection in
                    try await connection.query("INSERT INTO items VALUES (1)", logger: .silent)
                    throw Refused()
                }
            }
            // A statement that fails inside the body: its transaction is aborted and rolled back.
            await #expect(throws: PSQLError.self) {
                try await use(tenancy, tenants[0]) { connection in
                    try await connection.query("INSERT INTO items VALUES (2)", logger: .silent)
                    try await connection.query("SELECT no_such_column FROM items", logger: .silent)
                }
            }
            let count = try await use(tenancy, tenants[0]) { try await Self.text("SELECT count(*)::text FROM items", on: $0) }
            #expect(count == "0", "a failed scope's insert was committed")
            // The same (only) connection, now tenant b's: its schema, no table of a's in reach.
            let (schema, items) = try await use(tenancy, tenants[1]) { connection in
                (try await Self.text("SELECT current_schema()::text", on: connection),
                 try await Self.text("SELECT coalesce(to_regclass('items')::text, 'none')", on: connection))
            }
            #expect(schema == store.configuration.prefix + "b")
            #expect(items == "none")
        }
    }

    @Test func noSearchPathOutlivesTheScope() async throws {
        try await withSharedPool { tenancy, _, tenants in
            _ = try await use(tenancy, tenants[0]) { try await Self.text("SELECT 1::text", on: $0) }
            // Borrow the shared client's only connection outside any tenant's scope.
            let pool = try await tenancy.withTenant(tenants[1]) { try tenancy.currentPool(as: PostgresTenantPool.self) }
            let path = try await pool.client.withConnection { try await Self.text("SHOW search_path", on: $0) }
            #expect(path == "\"$user\", public")
        }
    }
}
