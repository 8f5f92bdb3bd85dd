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

/// Every layout behind a real PgBouncer (Debian's, `ignore_startup_parameters = search_path`), in
/// transaction and in session pooling: either correct, isolated service, or the fail-closed refusal —
/// never a tenant's table outside its schema (in `public`, or the `"$user"` schema), never one
/// tenant's row in another's read.
@Suite(.enabled(if: PostgresTestServer.hasPgBouncers, PostgresTestServer.pgbouncerUnsetReason))
struct PoolerTests {
    /// Database per tenant and the shared-pool schema mode serve through either pooling mode: six
    /// tenants, 24 concurrent workers of interleaved writes and reads, every read checked against its
    /// tenant (rows, database and schema in effect), every acknowledged write found at the end.
    @Test(arguments: [TestLayout.database, .sharedSchema], PoolingMode.allCases)
    func isolatedUnderInterleavedTraffic(layout: TestLayout, mode: PoolingMode) async throws {
        let stores = try PostgresTestStores(layout: layout.layout, servers: [try mode.server()])
        let table = "notes_" + stores.prefix
        let store = try stores.makeStore(maximumConnectionsPerTenant: 2)
        let tenancy = try Tenancy(store: store, migrations: Self.migrations(table), logger: .silent)
        let tenants = try (0..<6).map { try TenantID("p\($0)") }
        try await withTeardown {
            for tenant in tenants { try await tenancy.createTenant(tenant) }
            let written = Locked([TenantID: Int]())
            let foreign = Locked([String]())
            let reads = Locked(0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<24 {
                    group.addTask {
                        for step in 0..<15 {
                            let tenant = tenants[(worker * 7 + step) % tenants.count]
                            let expected = (database: layout == .database ? store.configuration.prefix + tenant.rawValue : stores.servers[0].database,
                                            schema: layout == .database ? "public" : store.configuration.prefix + tenant.rawValue)
                            try await tenancy.withTenant(tenant) {
                                let pool = try tenancy.currentPool(as: PostgresTenantPool.self)
                                _ = try await pool.withConnection { connection in
                                    try await connection.query(
                                        PostgresQuery(unsafeSQL: "INSERT INTO \"\(table)\" (tenant, worker) VALUES ('\(tenant.rawValue)', \(worker))"),
                                        logger: .silent
                                    )
                                }
                                written.withLock { $0[tenant, default: 0] += 1 }
                                // Read in a separate statement (through a transaction pooler, likely on
                                // another backend): every row, and where it ran.
                                let seen = try await pool.withConnection { connection in
                                    var rows: [String] = []
                                    let query = PostgresQuery(unsafeSQL: "SELECT tenant, current_database()::text, current_schema()::text FROM \"\(table)\" UNION ALL SELECT '(where)', current_database()::text, current_schema()::text")
                                    for try await (owner, database, schema) in try await connection.query(query, logger: .silent).decode((String, String, String).self) {
                                        rows.append(owner)
                                        if database != expected.database || schema != expected.schema {
                                            rows.append("ran in \(database).\(schema)")
                                        }
                                    }
                                    return rows
                                }
                                reads.withLock { $0 += 1 }
                                let wrong = seen.filter { $0 != tenant.rawValue && $0 != "(where)" }
                                if !wrong.isEmpty { foreign.withLock { $0.append("\(tenant): \(wrong.prefix(3))") } }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(reads.value == 24 * 15)
            #expect(foreign.value.isEmpty, "reads saw other tenants' rows or ran elsewhere: \(foreign.value.prefix(5))")
            // Every acknowledged write is in its tenant's table, and nowhere else.
            for tenant in tenants {
                let counted = try await Self.rowCount(of: tenant, table: table, stores: stores, layout: layout)
                #expect(counted == written.value[tenant, default: 0], "tenant \(tenant)")
            }
            #expect(try await Self.tablesOutsideTenants(named: [table], stores: stores).isEmpty)
        } teardown: {
            await tenancy.shutdown()
            await stores.cleanUp()
        }
    }

    /// The pool-per-tenant schema layout cannot work through this PgBouncer (it drops `search_path`),
    /// so it refuses: a create fails with one `invalidConfiguration` line that names the remedy and
    /// leaves nothing (no schema, no catalog row, no table anywhere); a tenant created directly
    /// is refused through the pooler before a single query of it runs.
    @Test(arguments: PoolingMode.allCases)
    func poolPerTenantRefusesBehindThePooler(mode: PoolingMode) async throws {
        let stores = try PostgresTestStores(layout: .schemaPerTenant(.poolPerTenant), servers: [try mode.server()])
        let table = "notes_" + stores.prefix
        let store = try stores.makeStore()
        let tenancy = try Tenancy(store: store, migrations: Self.migrations(table), logger: .silent)
        // The same store name space reached directly, without the pooler.
        var direct = stores.configuration()
        direct.servers = [try PostgresTestServer.primary()]
        let directTenancy = try Tenancy(store: try PostgresStore(configuration: direct), migrations: Self.migrations(table), logger: .silent)
        let acme = try TenantID("acme")
        let globex = try TenantID("globex")
        try await withTeardown {
            var refusal: TenantedError?
            do {
                try await tenancy.createTenant(acme)
            } catch let error as TenantedError {
                refusal = error
            }
            let error = try #require(refusal, "a create through the pooler must be refused")
            #expect(error.code == .invalidConfiguration, "\(String(reflecting: error))")
            #expect(error.description.contains(".sharedPool"), "\(error)")
            #expect(error.description.contains("PgBouncer"), "\(error)")
            #expect(!error.description.contains("\n"))
            #expect(!error.description.contains("127.0.0.1") && !error.description.contains("postgres://"))

            // Nothing is left: not listed, no schema, no catalog row, no table anywhere.
            #expect(try await tenancy.tenants().isEmpty)
            #expect(try await !tenancy.tenantExists(acme))
            #expect(try await Self.leftovers(stores).isEmpty)
            #expect(try await Self.tablesOutsideTenants(named: [table], stores: stores).isEmpty)

            // A tenant made without the pooler is not served through it.
            try await directTenancy.createTenant(globex)
            _ = try await directTenancy.withTenant(globex) {
                try await directTenancy.currentPool(as: PostgresTenantPool.self).withConnection { connection in
                    try await connection.query(PostgresQuery(unsafeSQL: "INSERT INTO \"\(table)\" (tenant, worker) VALUES ('globex', 0)"), logger: .silent)
                }
            }
            let served = Locked(false)
            await expectTenantedError(.invalidConfiguration) {
                try await tenancy.withTenant(globex) {
                    served.withLock { $0 = true }
                }
            }
            #expect(!served.value, "the tenant's scope ran although its schema is not in effect")
            #expect(try await Self.rowCount(of: globex, table: table, stores: stores, layout: .schema) == 1)
            #expect(try await Self.tablesOutsideTenants(named: [table], stores: stores).isEmpty)
        } teardown: {
            await tenancy.shutdown()
            await directTenancy.shutdown()
            await stores.cleanUp()
        }
    }

    /// A PgBouncer that does not ignore `search_path` refuses the pool-per-tenant layout's connections
    /// at connect: reported as the same one-line refusal, at once (not after the pool's connect
    /// retries), and nothing is left.
    @Test(.enabled(if: PostgresTestServer.pgbouncerRefusingURL != nil, "TENANTED_PGBOUNCER_REFUSING_URL is not set: the refusing-PgBouncer test skipped"))
    func poolPerTenantRefusedWhenThePoolerRefusesSearchPath() async throws {
        var server = try PostgresServer(name: "primary", url: try #require(PostgresTestServer.pgbouncerRefusingURL))
        server.tls = .disable
        let stores = try PostgresTestStores(layout: .schemaPerTenant(.poolPerTenant), servers: [server])
        let table = "notes_" + stores.prefix
        let tenancy = try Tenancy(store: try stores.makeStore(), migrations: Self.migrations(table), logger: .silent)
        try await withTeardown {
            do {
                try await tenancy.createTenant(TenantID("acme"))
                Issue.record("a create through a PgBouncer refusing search_path must be refused")
            } catch let error as TenantedError {
                #expect(error.code == .invalidConfiguration, "\(String(reflecting: error))")
                #expect(error.description.contains("refused the search_path startup parameter"), "\(error)")
                #expect(error.description.contains(".sharedPool"), "\(error)")
            }
            #expect(try await tenancy.tenants().isEmpty)
            #expect(try await Self.leftovers(stores).isEmpty)
            #expect(try await Self.tablesOutsideTenants(named: [table], stores: stores).isEmpty)
        } teardown: {
            await tenancy.shutdown()
            await stores.cleanUp()
        }
    }

    /// Two processes (two stores) creating the same tenants through the transaction pooler: exactly
    /// one create of each name wins. The tenant lock is transaction-scoped, so it holds while the
    /// pooler moves the other statements between backends, and it is released at the end: every
    /// round destroys the tenant from the other process and creates it again.
    @Test(arguments: [TestLayout.database, .sharedSchema])
    func crossProcessCreateRaceThroughTransactionPooling(layout: TestLayout) async throws {
        let stores = try PostgresTestStores(layout: layout.layout, servers: [try PoolingMode.transaction.server()])
        let table = "notes_" + stores.prefix
        let first = try Tenancy(store: try stores.makeStore(), migrations: Self.migrations(table), logger: .silent)
        let second = try Tenancy(store: try stores.makeStore(), migrations: Self.migrations(table), logger: .silent)
        let race = try TenantID("race")
        try await withTeardown {
            for round in 0..<3 {
                let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                    for attempt in 0..<6 {
                        let tenancy = attempt.isMultiple(of: 2) ? first : second
                        group.addTask {
                            do {
                                _ = try await tenancy.createTenant(race)
                                return "created"
                            } catch let error as TenantedError where error.code == .tenantExists {
                                return "exists"
                            }
                        }
                    }
                    return try await group.reduce(into: [String]()) { $0.append($1) }
                }
                #expect(outcomes.filter { $0 == "created" }.count == 1, "round \(round): \(outcomes)")
                #expect(outcomes.filter { $0 == "exists" }.count == 5, "round \(round): \(outcomes)")
                #expect(try await first.tenants() == [race])
                #expect(try await second.tenantExists(race))
                // The other process destroys it; a held (leaked) lock would time this out.
                let destroyer = round.isMultiple(of: 2) ? second : first
                try await destroyer.destroyTenant(race)
                #expect(try await first.tenants().isEmpty)
            }
            #expect(try await Self.leftovers(stores).isEmpty)
        } teardown: {
            await first.shutdown()
            await second.shutdown()
            await stores.cleanUp()
        }
    }

    // MARK: Helpers

    /// One migration: a table named for the test, created unqualified, so it lands wherever the
    /// connection's search_path points.
    static func migrations(_ table: String) -> TenantMigrations {
        let migrations = TenantMigrations()
        migrations.add(CreateNotesTable(table: table))
        return migrations
    }

    struct CreateNotesTable: AsyncMigration {
        let table: String
        var name: String { "CreateNotesTable" }

        func prepare(on database: any Database) async throws {
            try await (database as! any SQLDatabase).raw("CREATE TABLE \(ident: table) (id serial PRIMARY KEY, tenant text NOT NULL, worker int NOT NULL)").run()
        }

        func revert(on database: any Database) async throws {
            try await (database as! any SQLDatabase).raw("DROP TABLE \(ident: table)").run()
        }
    }

    /// Rows of `tenant`'s table, read directly (no pooler), schema-qualified; any row of another
    /// tenant fails the test.
    static func rowCount(of tenant: TenantID, table: String, stores: PostgresTestStores, layout: TestLayout) async throws -> Int {
        let server = try PostgresTestServer.primary()
        let object = stores.prefix + tenant.rawValue
        let (database, schema) = layout == .database ? (object, "public") : (server.database, object)
        return try await PostgresTestStores.withConnection(to: server, database: database) { connection in
            var count = 0
            let query = PostgresQuery(unsafeSQL: "SELECT tenant FROM \"\(schema)\".\"\(table)\"")
            for try await owner in try await connection.query(query, logger: .silent).decode(String.self) {
                #expect(owner == tenant.rawValue, "a row of \(owner) in \(tenant)'s table")
                count += 1
            }
            return count
        }
    }

    /// Tables among `names` in the server's database outside the test's tenant schemas, read
    /// directly: in `public`, or in the schema named like the role (`"$user"` comes first in the
    /// default search_path; with the role `tenanted` that is Tenanted's catalog schema).
    static func tablesOutsideTenants(named names: [String], stores: PostgresTestStores) async throws -> [String] {
        try await PostgresTestStores.withConnection(to: try PostgresTestServer.primary()) { connection in
            var found: [String] = []
            let rows = try await connection.query("SELECT schemaname || '.' || tablename FROM pg_tables WHERE tablename = ANY(\(names)) AND NOT starts_with(schemaname, \(stores.prefix))", logger: .silent)
            for try await name in rows.decode(String.self) { found.append(name) }
            return found
        }
    }

    /// Databases or schemas with the test's prefix, and its catalog rows, read directly.
    static func leftovers(_ stores: PostgresTestStores) async throws -> [String] {
        try await PostgresTestStores.withConnection(to: try PostgresTestServer.primary()) { connection in
            var found: [String] = []
            let prefix = stores.prefix
            let query: PostgresQuery = """
                SELECT datname::text FROM pg_database WHERE starts_with(datname, \(prefix))
                UNION ALL SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, \(prefix))
                UNION ALL SELECT 'catalog:' || tenant FROM tenanted.placements WHERE store LIKE '%:' || \(prefix)
                """
            for try await name in try await connection.query(query, logger: .silent).decode(String.self) { found.append(name) }
            return found
        }
    }
}
