import BenchmarkSupport
import FluentKit
import Foundation
import Logging
import MariaDBClient
import NIOPosix
import SQLKit
import Tenanted
import TenantedFluent
import TenantedFluentMySQL
import TenantedMySQL

/// `mysql-figures [--quick] [--output PATH] [--latest PATH] [--only W,…]`: the MySQL store (a
/// database per tenant on MariaDB or MySQL) against the bare MariaDB client on one connection doing
/// the same work, in the same run. Reads `TENANTED_MYSQL_URL`; without it prints that it skipped.
/// Workloads: `create_tenant`, `switch_pk_select`.
@main
struct Entry {
    struct Report: Codable {
        var comparisons: [Comparison] = []
        var loadAverage: [String] = []
    }

    static func main() async throws {
        let options = Options(name: "mysql-figures")
        guard let url = ProcessInfo.processInfo.environment["TENANTED_MYSQL_URL"], !url.isEmpty else {
            print("mysql: skipped (TENANTED_MYSQL_URL is not set)")
            return
        }
        var report = try await measure(url: url, options: options)
        report.loadAverage.append(loadAverage())
        var figures: [Figure] = []
        for comparison in report.comparisons {
            if comparison.name.hasSuffix("create_tenant") {
                figures.append(Figure(name: "\(comparison.name)_median", value: comparison.tenanted.medianMicros / 1000, unit: "ms",
                                      baseline: comparison.baseline.medianMicros / 1000))
            } else {
                figures += Figure.times(of: comparison)
            }
        }
        print("")
        try publish(figures, from: "mysql-figures", options: options)
        try writeResults(report, loadAverage: report.loadAverage, to: options.output)
    }

    nonisolated static func measure(url: String, options: Options) async throws -> Report {
        var logger = Logger(label: "mysql-figures")
        logger.logLevel = .warning
        let server = try MariaDBConfiguration(url: url)
        let tenantsToSwitch = options.quick ? 8 : 20
        let creates = options.quick ? 6 : 20
        let selects = options.quick ? 2_000 : 10_000

        var report = Report()
        report.loadAverage.append(loadAverage())
        let prefix = "bench\(UInt32.random(in: 0...UInt32.max))_"
        let store = try MySQLStore(configuration: .init(server: server, prefix: prefix, logger: logger))
        let migrations = TenantMigrations()
        migrations.add(CreateItems())
        let tenancy = try Tenancy(store: store, migrations: migrations, logger: logger)
        let databases = Databases(threadPool: .singleton, on: store.eventLoopGroup)
        databases.use(.tenanted(tenancy), as: .tenanted, isDefault: true)
        let raw = try await RawMySQL(server: server, prefix: prefix + "raw_")
        do {
            if options.runs("create_tenant") {
                report.comparisons.append(try await compare(
                    "mysql_database_create_tenant", rounds: 2, iterations: creates, warmup: 1,
                    tenanted: { index in _ = try await tenancy.createTenant(TenantID("c\(index)")) },
                    baseline: { index in try await raw.createTenant("c\(index)") }
                ))
            }
            if options.runs("switch_pk_select") {
                let tenants = try (0..<tenantsToSwitch).map { try TenantID("s\($0)") }
                for tenant in tenants {
                    try await tenancy.createTenant(tenant)
                    try await tenancy.withTenant(tenant) {
                        for id in 1...100 {
                            try await sql(databases).raw("INSERT INTO items (id, title) VALUES (\(bind: id), \(bind: "item \(id)"))").run()
                        }
                    }
                }
                try await raw.createTenant("s0")
                try await raw.seed("s0")
                let connection = raw.connection
                report.comparisons.append(try await compare(
                    "mysql_database_switch_pk_select", rounds: 4, iterations: selects, warmup: 200,
                    tenanted: { index in
                        let tenant = tenants[index % tenants.count]
                        try await tenancy.withTenant(tenant) {
                            _ = try await sql(databases).raw("SELECT id, title FROM items WHERE id = \(bind: index % 100 + 1)").first()
                        }
                    },
                    baseline: { index in
                        _ = try await connection.query("SELECT id, title FROM `\(prefix)raw_s0`.items WHERE id = ?", [.int(Int64(index % 100 + 1))])
                    }
                ))
            }
        } catch {
            await cleanUp(databases, tenancy, raw)
            throw error
        }
        await cleanUp(databases, tenancy, raw)
        return report
    }

    static func sql(_ databases: Databases) -> any SQLDatabase {
        databases.database(logger: Logger(label: "bench"), on: MultiThreadedEventLoopGroup.singleton.any()) as! any SQLDatabase
    }

    static func cleanUp(_ databases: Databases, _ tenancy: Tenancy, _ raw: RawMySQL) async {
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

/// The bare MariaDB client on one connection: `CREATE DATABASE` and the same DDL; the same select.
struct RawMySQL {
    let connection: MariaDBConnection
    let prefix: String

    init(server: MariaDBConfiguration, prefix: String) async throws {
        connection = try await MariaDBConnection.connect(configuration: server.with(database: nil))
        self.prefix = prefix
    }

    func createTenant(_ name: String) async throws {
        let database = "`\(prefix + name)`"
        try await connection.query("CREATE DATABASE \(database) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        try await connection.query("CREATE TABLE \(database).items (id BIGINT PRIMARY KEY, title VARCHAR(255) NOT NULL)")
        try await connection.query("CREATE INDEX items_title ON \(database).items (title)")
    }

    func seed(_ name: String) async throws {
        for id in 1...100 {
            try await connection.query("INSERT INTO `\(prefix + name)`.items (id, title) VALUES (?, ?)", [.int(Int64(id)), .text("item \(id)")])
        }
    }

    func dropAll() async {
        let pattern = prefix.replacingOccurrences(of: "_", with: "\\_") + "%"
        if let rows = try? await connection.query("SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE ?", [.text(pattern)]).rows {
            for name in rows.compactMap({ $0["name"]?.string }) { _ = try? await connection.query("DROP DATABASE `\(name)`") }
        }
        await connection.close()
    }
}
