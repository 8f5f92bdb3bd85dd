import BenchmarkSupport
import FluentKit
import FluentPostgresDriver
import Foundation
import Logging
import NIOPosix
import PostgresNIO
import SQLKit
import Tenanted
import TenantedFluent
import TenantedFluentPostgres
import TenantedPostgres

/// `postgres-figures [--quick] [--scale] [--output PATH] [--latest PATH] [--only W,…] [--layouts L,…]`: the PostgreSQL stores
/// (database per tenant, schema per tenant with a pool per tenant, and with one shared pool)
/// against postgres-nio on one connection doing the same work, in the same run. Reads
/// `TENANTED_POSTGRES_URL`; without it prints that it skipped. Workloads: `create_tenant`, `backup_restore`,
/// `switch_pk_select` (through Fluent — `fluent_select` alone —, through the store's own lease — `store_select` alone — and Fluent
/// without Tenanted — `fluent_untenanted` alone), `hops` (``Hops``), and (only when named) `peers`
/// (``Peers``: against django-tenants), `min_connections` (only when named: `minimumConnectionsPerPool`
/// 1 against 0 on the same tenants). `--layouts database,schema,shared_schema` picks layouts.
/// `--scale` runs only the churn over 1,000 tenant databases under the connection budget (`Scale`).
@main
struct Entry {
    struct Report: Codable {
        var comparisons: [Comparison] = []
        var loadAverage: [String] = []
    }

    static func main() async throws {
        let options = Options(name: "postgres-figures")
        guard let url = ProcessInfo.processInfo.environment["TENANTED_POSTGRES_URL"], !url.isEmpty else {
            print("postgres: skipped (TENANTED_POSTGRES_URL is not set)")
            return
        }
        if CommandLine.arguments.contains("--scale") {
            // scripts/bench --scale: the 1,000-database churn under the connection budget (Scale.swift).
            let figures = try await Scale.run(url: url, options: options)
            print("")
            try publish(figures, from: "postgres-figures", options: options)
            return
        }
        var figures: [Figure] = []
        if options.only.contains("peers") {
            figures += try await Peers.measure(url: url, options: options)
        }
        var report = Report()
        if options.only.isEmpty || !options.only.subtracting(["peers"]).isEmpty {
            report = try await measure(url: url, options: options)
        }
        report.loadAverage.append(loadAverage())
        for comparison in report.comparisons {
            if comparison.name.hasSuffix("create_tenant") {
                figures.append(Figure(name: "\(comparison.name)_median", value: comparison.tenanted.medianMicros / 1000, unit: "ms",
                                      baseline: comparison.baseline.medianMicros / 1000))
            } else {
                figures += Figure.times(of: comparison)
            }
        }
        print("")
        try publish(figures, from: "postgres-figures", options: options)
        try writeResults(report, loadAverage: report.loadAverage, to: options.output)
    }

    /// Every workload for every layout, on the server at `url`.
    nonisolated static func measure(url: String, options: Options) async throws -> Report {
        var logger = Logger(label: "postgres-figures")
        logger.logLevel = .warning
        let server = try PostgresServer(name: "bench", url: url)
        let tenantsToSwitch = options.quick ? 8 : 20
        let creates = options.quick ? 6 : 20
        let selects = options.quick ? 2_000 : 10_000

        var report = Report()
        report.loadAverage.append(loadAverage())
        let layouts: [(String, PostgresStore.Layout)] = [
            ("database", .databasePerTenant()), ("schema", .schemaPerTenant(.poolPerTenant)), ("shared_schema", .schemaPerTenant(.sharedPool)),
        ]
        // `--layouts database,schema,shared_schema`: only these layouts (all by default).
        let only = CommandLine.arguments.firstIndex(of: "--layouts").flatMap { $0 + 1 < CommandLine.arguments.count ? CommandLine.arguments[$0 + 1] : nil }
            .map { Set($0.split(separator: ",").map(String.init)) }
        for (name, layout) in layouts where only?.contains(name) ?? true {
            let prefix = "bench\(UInt32.random(in: 0...UInt32.max))_"
            // A budget above the 20 warm pools of 4 (scripts/postgres allows 500 connections): this
            // figure is the warm path, not churn (see Scale.swift for churn under the budget).
            let store = try PostgresStore(configuration: .init(servers: [server], layout: layout, prefix: prefix, maximumConnectionsPerServer: 200, logger: logger))
            let migrations = TenantMigrations()
            migrations.add(CreateItems())
            let tenancy = try Tenancy(store: store, migrations: migrations, logger: logger)
            let databases = Databases(threadPool: .singleton, on: store.eventLoopGroup)
            databases.use(.tenanted(tenancy), as: .tenanted, isDefault: true)
            let raw = RawPostgres(server: server, layout: layout, prefix: prefix + "raw_", logger: logger)
            do {
                if options.runs("create_tenant") {
                    // Before templates: every create runs the migrations.
                    let migrating = try Tenancy(store: store, migrations: migrations, configuration: .init(createsFromTemplate: false), logger: logger)
                    report.comparisons.append(try await compare(
                        "postgres_\(name)_create_tenant_migrated", rounds: 2, iterations: creates, warmup: 1,
                        tenanted: { index in _ = try await migrating.createTenant(TenantID("m\(index)")) },
                        baseline: { index in try await raw.createTenant("m\(index)") }
                    ))
                    await migrating.shutdown()
                    report.comparisons.append(try await compare(
                        "postgres_\(name)_create_tenant", rounds: 2, iterations: creates, warmup: 1,
                        tenanted: { index in _ = try await tenancy.createTenant(TenantID("c\(index)")) },
                        baseline: { index in try await raw.createTenant("c\(index)") }
                    ))
                }
                if options.runs("backup_restore") {
                    let megabytes = options.quick ? 10 : 50
                    let big = try TenantID("big")
                    try await tenancy.createTenant(big)
                    try await tenancy.withTenant(big) {
                        try await sql(databases).raw("CREATE TABLE blobs (id bigint PRIMARY KEY, data bytea NOT NULL)").run()
                        // Random bytes do not compress: the dump is as large as the data.
                        try await sql(databases).raw("INSERT INTO blobs SELECT g, decode(string_agg(md5(random()::text || g || h), ''), 'hex') FROM generate_series(1, \(unsafeRaw: "\(megabytes * 256)")) g, generate_series(1, 256) h GROUP BY g").run()
                    }
                    let file = FileManager.default.temporaryDirectory.path + "/postgres-figures-\(UUID().uuidString).backup"
                    defer { try? FileManager.default.removeItem(atPath: file) }
                    let clock = ContinuousClock()
                    var started = clock.now
                    try await tenancy.backup(big, to: file)
                    let backup = clock.now - started
                    started = clock.now
                    try await tenancy.restore(TenantID("big-restored"), from: file)
                    let restore = clock.now - started
                    let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
                    print("postgres \(name): backup of a \(megabytes) MB tenant (\(size / 1_000_000) MB file) \(backup), restore \(restore)")
                }
                // `switch_pk_select` runs its three figures; `fluent_select`, `store_select` or `fluent_untenanted` one alone.
                let allSelects = options.runs("switch_pk_select")
                let fluentSelect = allSelects || options.only.contains("fluent_select")
                let storeSelect = allSelects || options.only.contains("store_select")
                let minimumAB = options.only.contains("min_connections")
                let untenantedSelect = (allSelects || options.only.contains("fluent_untenanted")) && name == "database"
                if fluentSelect || storeSelect || untenantedSelect || minimumAB {
                    let tenants = try (0..<tenantsToSwitch).map { try TenantID("s\($0)") }
                    for tenant in tenants {
                        try await tenancy.createTenant(tenant)
                        try await tenancy.withTenant(tenant) {
                            try await sql(databases).raw("INSERT INTO items (id, title) SELECT g, 'item ' || g FROM generate_series(1, 100) g").run()
                        }
                    }
                    try await raw.createTenant("s0")
                    try await raw.seed("s0")
                    if fluentSelect {
                        let comparison = try await raw.withConnection(to: "s0") { connection, schema in
                            try await compare(
                                "postgres_\(name)_switch_pk_select", rounds: 4, iterations: selects, warmup: 200,
                                tenanted: { index in
                                    let tenant = tenants[index % tenants.count]
                                    try await tenancy.withTenant(tenant) {
                                        _ = try await sql(databases).raw("SELECT id, title FROM items WHERE id = \(bind: index % 100 + 1)").first()
                                    }
                                },
                                baseline: { index in
                                    let rows = try await connection.query("SELECT id, title FROM \(unescaped: schema)items WHERE id = \(index % 100 + 1)", logger: logger)
                                    for try await _ in rows {}
                                }
                            )
                        }
                        report.comparisons.append(comparison)
                    }
                    // The same switch + select through the store's own lease, no Fluent or SQLKit:
                    // what Tenanted's routing, scope and pool cost over postgres-nio alone.
                    if storeSelect {
                        report.comparisons.append(try await raw.withConnection(to: "s0") { connection, schema in
                            try await compare(
                                "postgres_\(name)_switch_pk_select_store", rounds: 4, iterations: selects, warmup: 200,
                                tenanted: { index in
                                    let tenant = tenants[index % tenants.count]
                                    try await tenancy.withTenant(tenant) {
                                        try await tenancy.currentPool(as: PostgresTenantPool.self).withConnection { connection in
                                            let rows = try await connection.query("SELECT id, title FROM items WHERE id = \(index % 100 + 1)", logger: logger)
                                            for try await _ in rows {}
                                        }
                                    }
                                },
                                baseline: { index in
                                    let rows = try await connection.query("SELECT id, title FROM \(unescaped: schema)items WHERE id = \(index % 100 + 1)", logger: logger)
                                    for try await _ in rows {}
                                }
                            )
                        })
                    }
                    if minimumAB {
                        // A/B of minimumConnectionsPerPool: a store keeping 1 idle connection per pool against
                        // one keeping none (0, as before issue 19's change), both over these tenants.
                        let after = try PostgresStore(configuration: .init(
                            servers: [server], layout: layout, prefix: prefix, minimumConnectionsPerPool: 1, maximumConnectionsPerServer: 200, logger: logger
                        ))
                        let afterTenancy = try Tenancy(store: after, migrations: migrations, logger: logger)
                        let before = try PostgresStore(configuration: .init(
                            servers: [server], layout: layout, prefix: prefix, minimumConnectionsPerPool: 0, maximumConnectionsPerServer: 200, logger: logger
                        ))
                        let beforeTenancy = try Tenancy(store: before, migrations: migrations, logger: logger)
                        let select = { (tenancy: Tenancy, index: Int) in
                            try await tenancy.withTenant(tenants[index % tenants.count]) {
                                try await tenancy.currentPool(as: PostgresTenantPool.self).withConnection { connection in
                                    let rows = try await connection.query("SELECT id, title FROM items WHERE id = \(index % 100 + 1)", logger: logger)
                                    for try await _ in rows {}
                                }
                            }
                        }
                        do {
                            report.comparisons.append(try await compare(
                                "postgres_\(name)_min1_vs_min0_pk_select", rounds: 4, iterations: selects, warmup: 200,
                                tenanted: { index in try await select(afterTenancy, index) },
                                baseline: { index in try await select(beforeTenancy, index) }
                            ))
                        } catch {
                            await afterTenancy.shutdown()
                            await beforeTenancy.shutdown()
                            throw error
                        }
                        await afterTenancy.shutdown()
                        await beforeTenancy.shutdown()
                    }
                    if untenantedSelect {
                        // Fluent without Tenanted: what the Fluent and SQLKit layers cost over postgres-nio.
                        report.comparisons.append(try await raw.withFluent(to: "s0") { fluent in
                            try await raw.withConnection(to: "s0") { connection, schema in
                                try await compare(
                                    "postgres_fluent_pk_select_untenanted", rounds: 4, iterations: selects, warmup: 200,
                                    tenanted: { index in
                                        _ = try await fluent.raw("SELECT id, title FROM items WHERE id = \(bind: index % 100 + 1)").first()
                                    },
                                    baseline: { index in
                                        let rows = try await connection.query("SELECT id, title FROM \(unescaped: schema)items WHERE id = \(index % 100 + 1)", logger: logger)
                                        for try await _ in rows {}
                                    }
                                )
                            }
                        })
                    }
                }
                if options.runs("hops"), name == "schema" {
                    try await raw.createTenant("h0")
                    try await raw.seed("h0")
                    report.comparisons += try await raw.withConnection(to: "h0") { connection, schema in
                        try await Hops.measure(connection: connection, schema: schema, selects: selects, logger: logger)
                    }
                }
            } catch {
                await cleanUp(databases, tenancy, raw)
                throw error
            }
            await cleanUp(databases, tenancy, raw)
        }
        return report
    }

    static func sql(_ databases: Databases) -> any SQLDatabase {
        databases.database(logger: Logger(label: "bench"), on: MultiThreadedEventLoopGroup.singleton.any()) as! any SQLDatabase
    }

    static func cleanUp(_ databases: Databases, _ tenancy: Tenancy, _ raw: RawPostgres) async {
        for tenant in (try? await tenancy.tenants()) ?? [] { try? await tenancy.destroyTenant(tenant) }
        await databases.shutdownAsync()
        await tenancy.shutdown()
        await raw.dropAll()
    }
}

/// The tenant schema of both sides: one table, an index.
struct CreateItems: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("items").field("id", .int64, .identifier(auto: false)).field("title", .string, .required).create()
        try await (database as! any SQLDatabase).raw("CREATE INDEX items_title ON items (title)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("items").delete()
    }
}

/// postgres-nio alone: `CREATE DATABASE`/`CREATE SCHEMA` and the same DDL; queries on one connection.
struct RawPostgres {
    let server: PostgresServer
    let layout: PostgresStore.Layout
    let prefix: String
    let logger: Logger

    var isDatabase: Bool { if case .databasePerTenant = layout { true } else { false } }

    func createTenant(_ name: String) async throws {
        let object = prefix + name
        try await withClient(database: server.database) { connection in
            if isDatabase {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(object)\" TEMPLATE template1"), logger: logger)
            } else {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \"\(object)\""), logger: logger)
            }
        }
        try await withConnection(to: name) { connection, schema in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(schema)items (id bigint PRIMARY KEY, title text NOT NULL)"), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE INDEX items_title ON \(schema)items (title)"), logger: logger)
        }
    }

    func seed(_ name: String) async throws {
        try await withConnection(to: name) { connection, schema in
            try await connection.query(PostgresQuery(unsafeSQL: "INSERT INTO \(schema)items (id, title) SELECT g, 'item ' || g FROM generate_series(1, 100) g"), logger: logger)
        }
    }

    /// One connection to tenant `name`'s data, and the schema qualifier its tables need.
    @discardableResult
    func withConnection<Result>(to name: String, _ body: (PostgresConnection, String) async throws -> Result) async throws -> Result {
        let object = prefix + name
        return try await withClient(database: isDatabase ? object : server.database) { connection in
            try await body(connection, isDatabase ? "" : "\"\(object)\".")
        }
    }

    /// FluentPostgresDriver alone (no Tenanted) on tenant `name`'s database: a `PostgresClient` with
    /// the options Tenanted's tenant pools use (4 connections, no keep-alive), as an `SQLDatabase`.
    func withFluent<Result>(to name: String, _ body: (any SQLDatabase) async throws -> Result) async throws -> Result {
        var configuration = PostgresClient.Configuration(
            host: server.host, port: server.port, username: server.username, password: server.password,
            database: isDatabase ? prefix + name : server.database, tls: .disable
        )
        configuration.options.maximumConnections = 4
        configuration.options.minimumConnections = 0
        configuration.options.keepAliveBehavior = nil
        let client = PostgresClient(configuration: configuration)
        let task = Task { await client.run() }
        defer { task.cancel() }
        let databases = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)
        databases.use(.postgres(client: client, logger: logger), as: .psql)
        let database = databases.database(.psql, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
        do {
            let result = try await body(database as! any SQLDatabase)
            await databases.shutdownAsync()
            return result
        } catch {
            await databases.shutdownAsync()
            throw error
        }
    }

    func dropAll() async {
        _ = try? await withClient(database: server.database) { connection in
            let query: PostgresQuery = isDatabase
                ? "SELECT datname::text FROM pg_database WHERE starts_with(datname, \(prefix))"
                : "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, \(prefix))"
            var names: [String] = []
            for try await name in try await connection.query(query, logger: logger).decode(String.self) { names.append(name) }
            for name in names {
                let drop = isDatabase ? "DROP DATABASE \"\(name)\" WITH (FORCE)" : "DROP SCHEMA \"\(name)\" CASCADE"
                try await connection.query(PostgresQuery(unsafeSQL: drop), logger: logger)
            }
        }
    }

    @discardableResult
    private func withClient<Result>(database: String, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        var configuration = PostgresClient.Configuration(
            host: server.host, port: server.port, username: server.username, password: server.password, database: database, tls: .disable
        )
        configuration.options.maximumConnections = 1
        let client = PostgresClient(configuration: configuration)
        let task = Task { await client.run() }
        defer { task.cancel() }
        return try await client.withConnection { try await body($0) }
    }
}
