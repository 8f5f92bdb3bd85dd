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
    /// A shared pool of two connections (the least it allows); checks of "the next use" run on
    /// both at once (``onEveryConnection(_:_:)``).
    private func withSharedPool(_ body: (Tenancy, PostgresStore, [TenantID]) async throws -> Void) async throws {
        let stores = try PostgresTestStores(layout: .schemaPerTenant(.sharedPool))
        var configuration = stores.configuration()
        configuration.maximumSharedConnections = 2
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

    /// Runs `body` twice at once, each holding its connection until the other holds one too, so that
    /// together they see both connections of the shared pool (checked by their backend pids). A fixed
    /// hold is not enough: on a loaded machine the pool's second connection can take longer to open
    /// than the first use takes, and the second use then gets the first's connection back.
    private func onEveryConnection(
        _ borrow: @escaping @Sendable (@escaping @Sendable (PostgresConnection) async throws -> [String]) async throws -> [String],
        _ body: @escaping @Sendable (PostgresConnection) async throws -> [String]
    ) async throws -> [[String]] {
        let holding = Locked(0)
        let results = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<2 {
                group.addTask {
                    try await borrow { connection in
                        let pid = try await Self.text("SELECT pg_backend_pid()::text", on: connection)
                        // Both uses hold a connection at once, or (if the pool could only ever lend
                        // one) give up after a minute and let the check below fail.
                        holding.withLock { $0 += 1 }
                        let deadline = ContinuousClock.now + .seconds(60)
                        while holding.value < 2, ContinuousClock.now < deadline {
                            try await Task.sleep(for: .milliseconds(10))
                        }
                        return [pid] + (try await body(connection))
                    }
                }
            }
            return try await group.reduce(into: [[String]]()) { $0.append($1) }
        }
        #expect(Set(results.map { $0[0] }).count == 2, "the two uses did not hold both connections")
        return results.map { Array($0.dropFirst()) }
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
            // Both connections, now tenant b's: its schema, no table of a's in reach.
            let seen = try await onEveryConnection({ body in try await self.use(tenancy, tenants[1], body) }) { connection in
                [try await Self.text("SELECT current_schema()::text", on: connection),
                 try await Self.text("SELECT coalesce(to_regclass('items')::text, 'none')", on: connection)]
            }
            for values in seen {
                #expect(values == [store.configuration.prefix + "b", "none"])
            }
        }
    }

    @Test func noSearchPathOutlivesTheScope() async throws {
        try await withSharedPool { tenancy, _, tenants in
            // Both connections used by tenant a…
            _ = try await onEveryConnection({ body in try await self.use(tenancy, tenants[0], body) }) { connection in
                [try await Self.text("SELECT current_schema()::text", on: connection)]
            }
            // …then borrowed from the shared client outside any tenant's scope: the default path.
            let pool = try await tenancy.withTenant(tenants[1]) { try tenancy.currentPool(as: PostgresTenantPool.self) }
            let seen = try await onEveryConnection({ body in try await pool.client.withConnection { try await body($0) } }) { connection in
                [try await Self.text("SHOW search_path", on: connection)]
            }
            for values in seen {
                #expect(values == ["\"$user\", public"])
            }
        }
    }
}
