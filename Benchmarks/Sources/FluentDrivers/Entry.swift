import BenchmarkSupport
import FluentKit
import FluentSQLiteDriver
import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
import Tenanted
import TenantedFluent
import TenantedFluentSQLite
import TenantedSQLite
#if canImport(Glibc)
import Glibc
#endif

/// `fluent-drivers [--quick] [--output PATH] [--latest PATH]`: Tenanted's Fluent SQLite driver
/// through the routing database against the same driver on a pool without Tenanted (the routing
/// overhead, with allocations per query) and against the stock FluentSQLiteDriver, in the same run
/// (see README.md).
@main
struct Entry {
    static func main() async throws {
        let options = Options(name: "fluent-drivers")
        let plan = options.quick ? Plan.quick() : Plan()

        // Warnings only: Tenanted logs every created tenant and Fluent every migration at info level.
        var logger = Logger(label: "fluent-drivers")
        logger.logLevel = .warning
        let report = try await withTemporaryDirectory(named: "fluent-drivers") { directory in
            try FileManager.default.createDirectory(atPath: directory + "/stock", withIntermediateDirectories: true)
            let migrations = TenantMigrations()
            migrations.add(CreateNotes())
            let store = try SQLiteStore(configuration: .init(root: directory + "/tenanted", logger: logger))
            let tenancy = try Tenancy(
                store: store,
                migrations: migrations,
                seed: { _, pool in try await pool.write { try await Schema.seed($0) } },
                logger: logger
            )
            // One registry for both drivers, as in an app: Tenanted's routing database as the default,
            // the stock driver beside it (registered by `run`).
            let databases = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)
            databases.use(.tenanted(tenancy), as: .tenanted, isDefault: true)
            let outcome: Result<Report, any Error>
            do {
                outcome = .success(try await run(
                    plan: plan, tenancy: tenancy, databases: databases, directory: directory, logger: logger))
            } catch {
                outcome = .failure(error)
            }
            // Shuts the stock driver down and, through the routing driver, the tenancy; the tenancy
            // again in case the routing driver was never made.
            await databases.shutdownAsync()
            await tenancy.shutdown()
            return try outcome.get()
        }

        print("")
        print(report.table())
        print("")
        try publish(report.figures, from: "fluent-drivers", options: options)
        try writeResults(report, loadAverage: report.loadAverage, to: options.output)
    }

    /// The stock driver's database for the warm workloads.
    static let stock = DatabaseID(string: "stock")

    static func run(
        plan: Plan,
        tenancy: Tenancy,
        databases: Databases,
        directory: String,
        logger: Logger
    ) async throws -> Report {
        var report = Report(
            generatedAt: ISO8601DateFormatter().string(from: Date()),
            cores: ProcessInfo.processInfo.activeProcessorCount,
            sqliteVersion: SQLiteConnection.libraryVersionString(),
            packages: resolvedPackages(["fluent-kit", "fluent-sqlite-driver", "sqlite-kit", "sql-kit", "sqlite-nio", "swift-nio"]),
            rootCommit: rootCommit(),
            plan: plan)
        report.loadAverage.append(loadAverage())
        print("Fluent drivers: \(report.cores) cores, load average \(report.loadAverage[0]), "
              + "SQLite \(report.sqliteVersion), root commit \(report.rootCommit ?? "?")")
        for (package, version) in report.packages.sorted(by: { $0.key < $1.key }) {
            print("  \(package) \(version)")
        }

        let eventLoops = MultiThreadedEventLoopGroup.singleton
        /// A database from the registry, as `req.db` (the default: Tenanted's) or `req.db(.stock)` gets one.
        func database(_ id: DatabaseID? = nil) throws -> any Database {
            guard let database = databases.database(id, logger: logger, on: eventLoops.any()) else {
                throw BenchmarkError("the Databases registry is shut down")
            }
            return database
        }
        /// A new stock driver for `path` and a database of it, outside the registry: what the stock
        /// side opens for a tenant.
        func stockDriver(_ path: String) -> (driver: any DatabaseDriver, database: any Database) {
            let configuration = DatabaseConfigurationFactory.sqlite(.file(path)).make()
            let driver = configuration.makeDriver(for: databases)
            let context = DatabaseContext(configuration: configuration, logger: logger, eventLoop: eventLoops.any())
            return (driver, driver.makeDatabase(with: context))
        }

        // The tenants: created by Tenanted (migration + seed); the stock side gets copies of their files.
        let hot = try TenantID("hot")
        // A copy of the hot tenant's data for the untenanted side of the routing figures.
        let direct = try TenantID("direct")
        let coldTenants = try (0..<plan.coldFiles).map { try TenantID(String(format: "cold-%02d", $0)) }
        progress("· creating \(coldTenants.count + 1) tenants of \(Schema.noteCount) notes ")
        func stockCopy(of tenant: TenantID) throws -> String {
            let path = directory + "/stock/\(tenant).sqlite"
            try FileManager.default.copyItem(atPath: tenancy.store(as: SQLiteStore.self).databasePath(for: tenant), toPath: path)
            return path
        }
        var coldPaths: [String] = []
        for tenant in [hot, direct] + coldTenants {
            try await tenancy.createTenant(tenant)
            if tenant != hot, tenant != direct { coldPaths.append(try stockCopy(of: tenant)) }
            progress(".")
        }
        let hotPath = try stockCopy(of: hot)
        // WAL for the stock side: journal_mode=WAL lives in the file (the copies have it from
        // Tenanted already); set it once more through the stock driver, and check.
        for path in [hotPath] + coldPaths {
            let (driver, stockDatabase) = stockDriver(path)
            let mode: String?
            do {
                mode = try await Schema.sql(stockDatabase).raw("PRAGMA journal_mode = WAL").first()?
                    .decode(column: "journal_mode", as: String.self)
            } catch {
                await driver.shutdownAsync()
                throw error
            }
            await driver.shutdownAsync()
            guard mode == "wal" else { throw BenchmarkError("\(path): journal_mode is \(mode ?? "?"), not wal") }
        }
        progress("\n")
        sync()  // flush the new files, so that writeback does not run during the timed loops
        guard tenancy.pools.openCount == 0 else { throw BenchmarkError("a tenant's pool is open before cold_open") }

        let ids = randomTaskIDs(count: 4_096)

        // 1. cold_open: from nothing open to the first Note.query(on:).first(). Tenanted: a tenant
        //    whose pool is closed (withTenant opens it: writer, PRAGMAs, pending-migration check);
        //    after each call, untimed, its pool is closed again. Stock: a new driver for a copy of a
        //    tenant's file; after each call, untimed, the driver is shut down.
        report.comparisons.append(try await compare(
            "fluent_cold_open_vs_stock", rounds: plan.rounds, iterations: plan.coldOpen, warmup: plan.coldOpenWarmup,
            tenanted: { call in
                let tenant = coldTenants[call % coldTenants.count]
                try await tenancy.withTenant(tenant) {
                    try await Schema.first(on: database())
                }
                return tenant
            },
            closingTenanted: { tenant in
                try await tenancy.pools.closing(tenant) {}
                guard tenancy.pools.openCount == 0 else {
                    throw BenchmarkError("\(tenancy.pools.openCount) pools still open after closing \(tenant)")
                }
            },
            baseline: { call in
                let (driver, stockDatabase) = stockDriver(coldPaths[call % coldPaths.count])
                do {
                    try await Schema.first(on: stockDatabase)
                } catch {
                    await driver.shutdownAsync()
                    throw error
                }
                return driver
            },
            closingBaseline: { driver in await driver.shutdownAsync() }))

        // 2 and 3. Warm: every call inside ONE withTenant scope, as in a request handler, with a
        // database from the registry per call, as `req.db`. The stock side ignores the scope.
        databases.use(.sqlite(.file(hotPath)), as: stock, isDefault: false)
        // The routing baseline: Tenanted's own Fluent SQLite driver on a pool of the `direct`
        // tenant's file opened straight from the store, outside the registry: no routing database,
        // no `Tenant` scope or lease, no record guard. A new database per call, as the registry makes.
        let store = try tenancy.store(as: SQLiteStore.self)
        let directPool = try await store.open(direct)
        let plain = DatabaseConfigurationFactory.sqlite(.memory).make()
        func directDatabase() -> any Database {
            store.makeDatabase(
                for: directPool, tenant: direct,
                context: DatabaseContext(configuration: plain, logger: logger, eventLoop: eventLoops.any()))
        }
        let warm: ([String: [String: String]], [Comparison], [Figure])
        do {
            warm = try await tenancy.withTenant(hot) {
                let settings = [
                    "tenanted": try await Schema.settings(on: database()),
                    "stock": try await Schema.settings(on: database(stock)),
                ]
                var comparisons: [Comparison] = []
                // Workload 1, the routing overhead: the same driver with and without Tenanted.
                comparisons.append(try await compare(
                    "routing_pk_select", rounds: plan.rounds, iterations: plan.pkSelect, warmup: plan.pkSelectWarmup,
                    tenanted: { call in try await Schema.find(ids[call % ids.count], on: database()) },
                    baseline: { call in try await Schema.find(ids[call % ids.count], on: directDatabase()) }))
                comparisons.append(try await compare(
                    "routing_insert", rounds: plan.rounds, iterations: plan.insert, warmup: plan.insertWarmup,
                    tenanted: { _ in try await Schema.insert(on: database()) },
                    baseline: { _ in try await Schema.insert(on: directDatabase()) }))
                let allocations = [
                    try await allocationsPerCall("allocations_per_routed_pk_select", plan: plan,
                        tenanted: { call in try await Schema.find(ids[call % ids.count], on: database()) },
                        baseline: { call in try await Schema.find(ids[call % ids.count], on: directDatabase()) }),
                    try await allocationsPerCall("allocations_per_routed_insert", plan: plan,
                        tenanted: { _ in try await Schema.insert(on: database()) },
                        baseline: { _ in try await Schema.insert(on: directDatabase()) }),
                ]
                // Against the stock FluentSQLiteDriver.
                comparisons.append(try await compare(
                    "fluent_pk_select_vs_stock", rounds: plan.rounds, iterations: plan.pkSelect,
                    warmup: plan.pkSelectWarmup,
                    tenanted: { call in try await Schema.find(ids[call % ids.count], on: database()) },
                    baseline: { call in try await Schema.find(ids[call % ids.count], on: database(stock)) }))
                comparisons.append(try await compare(
                    "fluent_insert_vs_stock", rounds: plan.rounds, iterations: plan.insert, warmup: plan.insertWarmup,
                    tenanted: { _ in try await Schema.insert(on: database()) },
                    baseline: { _ in try await Schema.insert(on: database(stock)) }))
                return (settings, comparisons, allocations.compactMap { $0 })
            }
        } catch {
            await store.close(directPool)
            throw error
        }
        await store.close(directPool)
        guard tenancy.pools.openCount == 1 else {
            throw BenchmarkError("the warm workloads left \(tenancy.pools.openCount) pools open instead of 1")
        }
        report.settings = warm.0
        report.comparisons += warm.1
        report.figures = report.comparisons.flatMap(Figure.times(of:)) + warm.2
        for (side, settings) in report.settings.sorted(by: { $0.key < $1.key }) {
            print("  \(side): " + settings.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        report.loadAverage.append(loadAverage())
        return report
    }
}
