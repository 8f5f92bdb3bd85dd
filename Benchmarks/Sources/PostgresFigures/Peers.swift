import BenchmarkSupport
import FluentKit
import Foundation
import Logging
import NIOPosix
import SQLKit
import Tenanted
import TenantedFluent
import TenantedFluentPostgres
import TenantedPostgres

/// `postgres-figures --only peers`: Tenanted's schema-per-tenant store doing what
/// `Benchmarks/Peers/run.py` measures for django-tenants, on the same server, and the `peer_…`
/// figures with django-tenants' side (read from the JSON file named by `TENANTED_PEER_RESULTS`) as
/// the baseline. `scripts/bench --peers` runs both pinned to one core with the server.
enum Peers {
    /// What run.py writes: per-call summaries in µs, whole runs in ms.
    struct PeerReport: Decodable {
        struct Calls: Decodable { var medianMicros: Double; var p99Micros: Double }
        struct Whole: Decodable { var millis: Double }
        var tenants: Int
        var switchTenants: Int
        var selects: Int
        var create_tenant: Calls
        var switch_pk_select: Calls
        var migrate_all_noop: Whole
        var migrate_all_one: Whole
    }

    /// Tenanted's figures, each against django-tenants' when its report is at `TENANTED_PEER_RESULTS`.
    static func measure(url: String, options: Options) async throws -> [Figure] {
        var peer: PeerReport?
        if let path = ProcessInfo.processInfo.environment["TENANTED_PEER_RESULTS"], !path.isEmpty {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw PeerError("TENANTED_PEER_RESULTS names \(path), which cannot be read")
            }
            peer = try JSONDecoder().decode(PeerReport.self, from: data)
        } else {
            print("peers: TENANTED_PEER_RESULTS is not set: Tenanted's figures alone, without django-tenants'")
        }
        let tenantCount = peer?.tenants ?? (options.quick ? 50 : 200)
        let switchTenants = peer?.switchTenants ?? 20
        let selects = peer?.selects ?? (options.quick ? 2_000 : 10_000)
        var logger = Logger(label: "postgres-figures")
        logger.logLevel = .warning
        let server = try PostgresServer(name: "bench", url: url)

        // Schema per tenant with a pool per tenant (the default): create, select, migrate-all.
        // The connection budget is raised as in workload 7, so the 20 tenants the select rotates over
        // all keep their pools: with the default budget (90 connections: 12 for the store's own
        // clients, then pools of 4) only 19 fit, and a cyclic walk over 20 reopens a pool on every
        // switch (measured so: 19.8 ms per select, pinned) — the budget's cost, not the query path's.
        let prefix = "peer_tn_\(UInt32.random(in: 0...UInt32.max))_"
        let store = try PostgresStore(configuration: .init(
            servers: [server], layout: .schemaPerTenant(.poolPerTenant), prefix: prefix, maximumConnectionsPerServer: 200, logger: logger
        ))
        let migrations = TenantMigrations()
        migrations.add(CreateItemsAndNotes())
        let tenancy = try Tenancy(store: store, migrations: migrations, logger: logger)
        // Shutting a `Databases` down shuts its tenancy down: only in `cleanUp`.
        let databases = Databases(threadPool: .singleton, on: store.eventLoopGroup)
        databases.use(.tenanted(tenancy), as: .tenanted, isDefault: true)
        var figures: [Figure] = []
        var tenants: [TenantID] = []
        do {
            progress("peers: creating \(tenantCount) tenants (schema per tenant, pool per tenant)\n")
            let creates = Series()
            try await creates.run(iterations: tenantCount, warmup: 0) { index in
                let tenant = try TenantID("t\(index)")
                try await tenancy.createTenant(tenant)
                tenants.append(tenant)
            }
            let create = creates.summary()
            figures.append(Figure(name: "peer_schema_create_tenant_median", value: create.medianMicros / 1000, unit: "ms",
                                  baseline: peer.map { $0.create_tenant.medianMicros / 1000 }))

            let select = try await switchAndSelect(tenancy: tenancy, databases: databases, tenants: Array(tenants.prefix(switchTenants)), selects: selects)
            figures += times("peer_schema_switch_pk_select", select, peer?.switch_pk_select)

            progress("peers: migrate-all over \(tenantCount) tenants, nothing to do\n")
            let clock = ContinuousClock()
            var started = clock.now
            let noop = try await tenancy.migrateAll()
            let noopMillis = nanoseconds(started.duration(to: clock.now)) / 1e6
            guard noop.failures.isEmpty else {
                throw PeerError("migrate-all (nothing to do) failed for \(noop.failures.count) tenants, first: \(String(reflecting: noop.failures[0].error!))")
            }
            figures.append(Figure(name: "peer_migrate_all_noop_\(tenantCount)", value: noopMillis, unit: "ms", baseline: peer?.migrate_all_noop.millis))

            progress("peers: migrate-all over \(tenantCount) tenants, one new migration\n")
            let next = TenantMigrations()
            next.add(CreateItemsAndNotes())
            next.add(AddItemPriority())
            let migrating = try Tenancy(store: store, migrations: next, logger: logger)
            started = clock.now
            let one = try await migrating.migrateAll()
            let oneMillis = nanoseconds(started.duration(to: clock.now)) / 1e6
            await migrating.shutdown()
            guard one.failures.isEmpty, one.migrated.count == tenantCount else {
                throw PeerError("migrate-all (one migration) migrated \(one.migrated.count) of \(tenantCount) tenants, \(one.failures.count) failed, first: \(one.failures.first.map { String(reflecting: $0.error!) } ?? "none")")
            }
            figures.append(Figure(name: "peer_migrate_all_one_\(tenantCount)", value: oneMillis, unit: "ms", baseline: peer?.migrate_all_one.millis))
        } catch {
            await cleanUp(tenancy, databases)
            throw error
        }
        await cleanUp(tenancy, databases)

        // Schema per tenant over one shared pool (as django-tenants: one connection, search_path per switch).
        let sharedPrefix = "peer_ts_\(UInt32.random(in: 0...UInt32.max))_"
        let shared = try PostgresStore(configuration: .init(servers: [server], layout: .schemaPerTenant(.sharedPool), prefix: sharedPrefix, logger: logger))
        let sharedTenancy = try Tenancy(store: shared, migrations: migrations, logger: logger)
        let sharedDatabases = Databases(threadPool: .singleton, on: shared.eventLoopGroup)
        sharedDatabases.use(.tenanted(sharedTenancy), as: .tenanted, isDefault: true)
        do {
            var sharedTenants: [TenantID] = []
            for index in 0..<switchTenants {
                let tenant = try TenantID("t\(index)")
                try await sharedTenancy.createTenant(tenant)
                sharedTenants.append(tenant)
            }
            let select = try await switchAndSelect(tenancy: sharedTenancy, databases: sharedDatabases, tenants: sharedTenants, selects: selects)
            figures += times("peer_shared_schema_switch_pk_select", select, peer?.switch_pk_select)
        } catch {
            await cleanUp(sharedTenancy, sharedDatabases)
            throw error
        }
        await cleanUp(sharedTenancy, sharedDatabases)
        return figures
    }

    /// Seeds 100 items in each of `tenants`, then times `withTenant(t) { routed SQL PK select }`
    /// rotating over them, as run.py times `set_tenant(t)` + `Item.objects.get(pk:)`.
    static func switchAndSelect(tenancy: Tenancy, databases: Databases, tenants: [TenantID], selects: Int) async throws -> Summary {
        for tenant in tenants {
            try await tenancy.withTenant(tenant) {
                try await Entry.sql(databases).raw("INSERT INTO items (id, title) SELECT g, 'item ' || g FROM generate_series(1, 100) g").run()
            }
        }
        progress("peers: \(selects) switch + PK selects over \(tenants.count) tenants\n")
        let series = Series()
        try await series.run(iterations: selects, warmup: 200) { index in
            let id = index % 100 + 1
            let found = try await tenancy.withTenant(tenants[index % tenants.count]) {
                try await Entry.sql(databases).raw("SELECT id, title FROM items WHERE id = \(bind: id)").first()?.decode(column: "id", as: Int.self)
            }
            guard found == id else { throw PeerError("select returned \(found.map(String.init) ?? "nothing"), expected \(id)") }
        }
        return series.summary()
    }

    static func times(_ name: String, _ summary: Summary, _ peer: PeerReport.Calls?) -> [Figure] {
        [
            Figure(name: "\(name)_median", value: summary.medianMicros, unit: "µs", baseline: peer?.medianMicros),
            Figure(name: "\(name)_p99", value: summary.p99Micros, unit: "µs", baseline: peer?.p99Micros),
        ]
    }

    static func cleanUp(_ tenancy: Tenancy, _ databases: Databases) async {
        for tenant in (try? await tenancy.tenants()) ?? [] { try? await tenancy.destroyTenant(tenant) }
        await databases.shutdownAsync()
        await tenancy.shutdown()
    }
}

struct PeerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = "peers: " + description }
}

/// The peer's two tables (Benchmarks/Peers/items/models.py): `items` with an index on its title,
/// `notes` referencing an item, with an index on the reference (Django indexes a foreign key).
struct CreateItemsAndNotes: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE TABLE items (id bigint PRIMARY KEY, title text NOT NULL)").run()
        try await sql.raw("CREATE INDEX items_title ON items (title)").run()
        try await sql.raw("CREATE TABLE notes (id bigint PRIMARY KEY, item_id bigint NOT NULL REFERENCES items (id) DEFERRABLE INITIALLY DEFERRED, body text NOT NULL)").run()
        try await sql.raw("CREATE INDEX notes_item_id ON notes (item_id)").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("DROP TABLE notes, items").run()
    }
}

/// The one new migration (the peer's `0002_item_priority`): a column with a default and an index.
struct AddItemPriority: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("ALTER TABLE items ADD COLUMN priority integer NOT NULL DEFAULT 0").run()
        try await sql.raw("CREATE INDEX items_priority ON items (priority)").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("ALTER TABLE items DROP COLUMN priority").run()
    }
}
