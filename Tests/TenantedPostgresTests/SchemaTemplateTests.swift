import FluentKit
import FluentSQL
import SQLKit
import Foundation
import PostgresNIO
import Tenanted
import TenantedFluent
import TenantedFluentPostgres
@testable import TenantedPostgres
import TenantedTestSupport
import Testing

/// Schema per tenant, created from a captured template (PostgresStore+SchemaTemplate.swift): the
/// result is the migrated schema, the guarantees of a create hold, and it falls back to migrations.
@Suite("PostgreSQL: schema per tenant from a template", .enabled(if: PostgresTestServer.url != nil, PostgresTestServer.unsetReason))
struct SchemaTemplateTests {
    static let schemaLayouts: [TestLayout] = [.schema, .sharedSchema]
    static let globex = try! TenantID("globex")
    static let initech = try! TenantID("initech")

    /// A tenancy over `stores` with `migrations`, creating from the template or by migrating.
    private func tenancy(
        _ stores: PostgresTestStores, migrations: [any Migration] = [CreateItems()], fromTemplate: Bool = true,
        pgDumpPath: String? = nil, seed: TenantSeed<PostgresTenantPool>? = nil
    ) throws -> Tenancy {
        let set = TenantMigrations()
        for migration in migrations { set.add(migration) }
        var configuration = stores.configuration()
        configuration.pgDumpPath = pgDumpPath
        return try Tenancy(
            store: try PostgresStore(configuration: configuration), migrations: set,
            configuration: .init(createsFromTemplate: fromTemplate), seed: seed, logger: .silent
        )
    }

    @Test("a schema from the template is the migrated schema: tables, defaults, indexes, constraints, migration records", arguments: Self.schemaLayouts)
    func sameAsMigrated(layout: TestLayout) async throws {
        let stores = try PostgresTestStores(layout: layout.layout)
        let templated = try tenancy(stores, migrations: [CreateItems(), CreateTags()])
        let migrating = try tenancy(stores, migrations: [CreateItems(), CreateTags()], fromTemplate: false)
        try await withTeardown {
            try await templated.createTenant(.acme)
            try await migrating.createTenant(Self.globex)
            let acme = stores.prefix + "acme", globex = stores.prefix + "globex"
            let (fromTemplate, migrated) = try await PostgresTestStores.withConnection(to: try PostgresTestServer.primary()) { connection async throws in
                (try await Self.describe(acme, connection), try await Self.describe(globex, connection))
            }
            #expect(fromTemplate == migrated)
            #expect(fromTemplate.contains { $0.hasPrefix("column items.id") }, "the description is not empty: \(fromTemplate)")
            #expect(try await templated.migrationStatus(.acme).applied == migrating.migrationStatus(Self.globex).applied)
            #expect(try await templated.migrationStatus(.acme).pending.isEmpty)

            // The template was really used: Fluent's migration log rows have random ids, so two
            // tenants made from one template share them, and a migrated tenant does not.
            try await templated.createTenant(Self.initech)
            try await PostgresTestStores.withConnection(to: try PostgresTestServer.primary()) { connection async throws in
                let copied = try await Self.migrationIDs(acme, connection)
                #expect(copied.count == 2)
                #expect(try await Self.migrationIDs(stores.prefix + "initech", connection) == copied, "both copies of the template")
                #expect(try await Self.migrationIDs(globex, connection).isDisjoint(with: copied), "the migrated tenant ran its own")
            }

            // One template for the migration set, and no private schema left behind.
            try await PostgresTestStores.withConnection(to: try PostgresTestServer.primary()) { connection async throws in
                #expect(try await Self.templateCount(stores.prefix, connection) == 1)
                #expect(try await Self.schemas(like: stores.prefix + "_building_", connection).isEmpty)
            }
            // The sequences are the tenant's own: inserts number from 1 in each.
            let items = try ItemsTenancy(tenancy: templated)
            try await items.insert(5, into: .acme)
            let migratedItems = try ItemsTenancy(tenancy: migrating)
            try await migratedItems.insert(6, into: Self.globex)
            #expect(try await items.values(of: .acme) == [5])
            #expect(try await items.values(of: Self.globex) == [6])
            await items.shutdownDatabases()
            await migratedItems.shutdownDatabases()
        } teardown: {
            await templated.shutdown()
            await migrating.shutdown()
            await stores.cleanUp()
        }
    }

    @Test("new migrations make a new template; a template the server cannot replay, or no pg_dump, falls back to the migrations", arguments: Self.schemaLayouts)
    func remadeAndFallbacks(layout: TestLayout) async throws {
        let stores = try PostgresTestStores(layout: layout.layout)
        let first = try tenancy(stores)
        let second = try tenancy(stores, migrations: [CreateItems(), CreateTags()])
        let noDumpStores = try PostgresTestStores(layout: layout.layout)
        let noDump = try tenancy(noDumpStores, pgDumpPath: "/nonexistent/pg_dump")
        try await withTeardown {
            try await first.createTenant(.acme)
            try await second.createTenant(Self.globex)
            #expect(try await second.migrationStatus(Self.globex).applied.count == 2)
            #expect(try await first.migrationStatus(.acme).applied.count == 1)
            let primary = try PostgresTestServer.primary()
            try await PostgresTestStores.withConnection(to: primary) { connection async throws in
                #expect(try await Self.templateCount(stores.prefix, connection) == 2, "one template per migration set")
                // A script the server refuses: the create runs the migrations instead.
                _ = try await connection.query("UPDATE tenanted.schema_templates SET script = 'SELECT * FROM tenanted_no_such_table' WHERE store = \("schema:" + stores.prefix)", logger: .silent)
            }
            let beta = try TenantID("beta")
            try await second.createTenant(beta)
            #expect(try await second.migrationStatus(beta).applied == second.migrationStatus(Self.globex).applied)
            #expect(try await second.tenants() == [.acme, beta, Self.globex])

            // A template row removed behind the process's back: made again.
            try await PostgresTestStores.withConnection(to: primary) { connection async throws in
                _ = try await connection.query("DELETE FROM tenanted.schema_templates WHERE store = \("schema:" + stores.prefix)", logger: .silent)
            }
            let gamma = try TenantID("gamma")
            try await first.createTenant(gamma)
            #expect(try await first.migrationStatus(gamma).pending.isEmpty)
            try await PostgresTestStores.withConnection(to: primary) { connection async throws in
                #expect(try await Self.templateCount(stores.prefix, connection) == 1)
            }

            // No pg_dump: every create migrates, and no template is stored.
            try await noDump.createTenant(.acme)
            #expect(try await noDump.migrationStatus(.acme).applied.count == 1)
            try await PostgresTestStores.withConnection(to: primary) { connection async throws in
                #expect(try await Self.templateCount(noDumpStores.prefix, connection) == 0)
            }
        } teardown: {
            await first.shutdown()
            await second.shutdown()
            await noDump.shutdown()
            await stores.cleanUp()
            await noDumpStores.cleanUp()
        }
    }

    @Test("a create from the template whose seed fails leaves nothing; concurrent creates of one name in two processes: one winner", arguments: Self.schemaLayouts)
    func failureAndRace(layout: TestLayout) async throws {
        let stores = try PostgresTestStores(layout: layout.layout)
        let failing = try tenancy(stores, seed: { tenant, _ in
            if tenant == .acme { throw TenantedError(.invalidConfiguration, "seed refused") }
        })
        let one = try tenancy(stores)
        let two = try tenancy(stores)
        try await withTeardown {
            try await failing.createTenant(Self.globex)
            await #expect(throws: TenantedError.self) { try await failing.createTenant(.acme) }
            try await PostgresTestStores.withConnection(to: try PostgresTestServer.primary()) { connection async throws in
                #expect(try await Self.schemas(like: stores.prefix + "acme", connection).isEmpty, "the failed create's schema is gone")
                let rows = try await connection.query("SELECT count(*)::int8 FROM tenanted.placements WHERE store = \("schema:" + stores.prefix) AND tenant = 'acme'", logger: .silent)
                for try await count in rows.decode(Int64.self) { #expect(count == 0, "and its catalog row") }
            }
            #expect(try await failing.tenants() == [Self.globex])

            for round in 0..<6 {
                let tenant = try TenantID("race\(round)")
                async let first: Bool = (try? await one.createTenant(tenant)) != nil
                async let second: Bool = (try? await two.createTenant(tenant)) != nil
                let wins = [await first, await second].filter { $0 }.count
                #expect(wins == 1, "round \(round): \(wins) winners")
                #expect(try await two.migrationStatus(tenant).pending.isEmpty)
            }
        } teardown: {
            await failing.shutdown()
            await one.shutdown()
            await two.shutdown()
            await stores.cleanUp()
        }
    }

    @Test("a dump becomes a script that keeps its settings to the create's transaction")
    func scriptFromDump() throws {
        let dump = """
            \\restrict abc
            SET statement_timeout = 0;
            SELECT pg_catalog.set_config('search_path', '', false);
            CREATE SCHEMA tenant__building_1;
            CREATE FUNCTION tenant__building_1.f() RETURNS void
                LANGUAGE sql
                SET search_path TO 'x'
                AS $$SELECT 1$$;
            INSERT INTO tenant__building_1.notes VALUES ('SET this = is data;');
            \\unrestrict abc
            """
        let script = try PostgresStore.templateScript(fromDump: dump)
        #expect(script == """
            SET LOCAL statement_timeout = 0;
            SELECT pg_catalog.set_config('search_path', '', true);
            CREATE SCHEMA tenant__building_1;
            CREATE FUNCTION tenant__building_1.f() RETURNS void
                LANGUAGE sql
                SET search_path TO 'x'
                AS $$SELECT 1$$;
            INSERT INTO tenant__building_1.notes VALUES ('SET this = is data;');
            """)
        #expect(throws: TenantedError.self) { try PostgresStore.templateScript(fromDump: "") }
        #expect(throws: TenantedError.self) { try PostgresStore.templateScript(fromDump: "not a dump\n") }
    }

    // MARK: Helpers

    /// Every column, default, index and constraint of `schema`, with the schema's name taken out.
    static func describe(_ schema: String, _ connection: PostgresConnection) async throws -> [String] {
        var lines: [String] = []
        let columns = try await connection.query(
            """
            SELECT table_name::text, column_name::text, data_type::text, is_nullable::text, coalesce(column_default, '')::text, is_identity::text
            FROM information_schema.columns WHERE table_schema = \(schema) ORDER BY table_name, ordinal_position
            """,
            logger: .silent
        )
        for try await (table, column, type, nullable, value, identity) in columns.decode((String, String, String, String, String, String).self) {
            lines.append("column \(table).\(column) \(type) \(nullable) \(value) \(identity)")
        }
        let indexes = try await connection.query("SELECT indexdef FROM pg_indexes WHERE schemaname = \(schema) ORDER BY indexname", logger: .silent)
        for try await definition in indexes.decode(String.self) { lines.append("index \(definition)") }
        let constraints = try await connection.query(
            """
            SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(c.oid) FROM pg_constraint c
            JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = \(schema) ORDER BY conname
            """,
            logger: .silent
        )
        for try await (table, name, definition) in constraints.decode((String, String, String).self) {
            lines.append("constraint \(table) \(name) \(definition)")
        }
        let records = try await connection.query(PostgresQuery(unsafeSQL: "SELECT name, batch::int8 FROM \(PostgresSQL.identifier(schema))._fluent_migrations ORDER BY name"), logger: .silent)
        for try await (name, batch) in records.decode((String, Int64).self) { lines.append("migration \(name) \(batch)") }
        return lines.map { $0.replacingOccurrences(of: "\"\(schema)\"", with: "S").replacingOccurrences(of: schema, with: "S") }
    }

    static func migrationIDs(_ schema: String, _ connection: PostgresConnection) async throws -> Set<UUID> {
        var ids: Set<UUID> = []
        let rows = try await connection.query(PostgresQuery(unsafeSQL: "SELECT id FROM \(PostgresSQL.identifier(schema))._fluent_migrations"), logger: .silent)
        for try await id in rows.decode(UUID.self) { ids.insert(id) }
        return ids
    }

    static func templateCount(_ prefix: String, _ connection: PostgresConnection) async throws -> Int64 {
        var exists = false
        for try await found in try await connection.query("SELECT to_regclass('tenanted.schema_templates') IS NOT NULL", logger: .silent).decode(Bool.self) { exists = found }
        guard exists else { return 0 }
        var count: Int64 = 0
        let rows = try await connection.query("SELECT count(*)::int8 FROM tenanted.schema_templates WHERE store = \("schema:" + prefix)", logger: .silent)
        for try await value in rows.decode(Int64.self) { count = value }
        return count
    }

    static func schemas(like prefix: String, _ connection: PostgresConnection) async throws -> [String] {
        var names: [String] = []
        let rows = try await connection.query("SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, \(prefix))", logger: .silent)
        for try await name in rows.decode(String.self) { names.append(name) }
        return names
    }
}

/// A second table with a foreign key, a unique index and a default, so the comparison has more to compare.
struct CreateTags: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("tags")
            .field("id", .int64, .identifier(auto: true))
            .field("item", .int64, .required, .references("items", "id", onDelete: .cascade))
            .field("label", .string, .required)
            .field("weight", .int, .required, .sql(.default(1)))
            .unique(on: "item", "label")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("tags").delete()
    }
}
