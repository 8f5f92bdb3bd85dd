import BenchmarkSupport
import Foundation
import Logging
import SQLiteNIO
import Synchronization
import Tenanted
import TenantedSQLite
#if canImport(Glibc)
import Glibc
#endif

/// `store-figures [--quick] [--output PATH] [--latest PATH] [--only W,…]`: Tenanted's SQLite store
/// against raw sqlite-nio doing the same work, in the same run (see README.md). Workloads:
/// `cold_open`, `create_tenant`, `pk_select`, `churn`, `migrate_all`, `pool_memory`; and `scale`,
/// which runs only when named (`--only scale [--scale-tenants N] [--demo PATH] [--hummingbird-demo PATH]`).
@main
struct Entry {
    static func main() async throws {
        let options = Options(name: "store-figures")
        let plan = options.quick ? Plan.quick() : Plan()

        // Warnings only: Tenanted logs every created tenant at info level.
        var logger = Logger(label: "store-figures")
        logger.logLevel = .warning
        var report = try await withTemporaryDirectory(named: "store-figures") { directory in
            try FileManager.default.createDirectory(atPath: directory + "/baseline", withIntermediateDirectories: true)
            let opened = OpenCounter()
            let store = try SQLiteStore(configuration: .init(root: directory + "/tenanted", logger: logger))
            let tenancy = try Tenancy(
                store: store,
                configuration: .init(pools: .init(maximumOpenPools: plan.maximumOpenPools)),
                migrator: try Schema.migrator(),
                delegate: opened,
                logger: logger
            )
            let outcome: Result<Report, any Error>
            do {
                outcome = .success(try await run(
                    plan: plan, options: options, tenancy: tenancy, opened: opened,
                    baseline: Baseline(logger: logger), directory: directory, logger: logger))
            } catch {
                outcome = .failure(error)
            }
            await tenancy.shutdown()
            return try outcome.get()
        }

        report.loadAverage.append(loadAverage())
        print("")
        try publish(report.figures, from: "store-figures", options: options)
        try writeResults(report, loadAverage: report.loadAverage, to: options.output)
    }

    static func run(
        plan: Plan,
        options: Options,
        tenancy: Tenancy,
        opened: OpenCounter,
        baseline: Baseline,
        directory: String,
        logger: Logger
    ) async throws -> Report {
        var report = Report(
            generatedAt: ISO8601DateFormatter().string(from: Date()),
            cores: ProcessInfo.processInfo.activeProcessorCount,
            sqliteVersion: SQLiteConnection.libraryVersionString(),
            rootCommit: rootCommit(),
            plan: plan)
        report.loadAverage.append(loadAverage())
        print("Store figures: \(report.cores) cores, load average \(report.loadAverage[0]), "
              + "SQLite \(report.sqliteVersion), root commit \(report.rootCommit ?? "?")")

        // Seed the tenants through a Tenancy of their own, so the measured one has no seed step.
        let hot = try TenantID("hot")
        let coldTenants = try (0..<plan.coldTenants).map { try TenantID(String(format: "cold-%03d", $0)) }
        let seeding = try Tenancy(store: try tenancy.store(as: SQLiteStore.self), migrator: try Schema.migrator(), seed: { _, pool in
            try await pool.write { try await Schema.seed($0) }
        }, logger: logger)
        progress("· seeding \(coldTenants.count + 1) tenants of \(BenchmarkSchema.taskCount) tasks ")
        // The baseline works on copies of the very files Tenanted created.
        func baselineCopy(of tenant: TenantID) throws -> String {
            let path = directory + "/baseline/\(tenant).sqlite"
            try FileManager.default.copyItem(atPath: tenancy.store(as: SQLiteStore.self).databasePath(for: tenant), toPath: path)
            return path
        }
        var coldPaths: [String] = []
        for (number, tenant) in ([hot] + coldTenants).enumerated() {
            try await seeding.createTenant(tenant)
            if tenant != hot { coldPaths.append(try baselineCopy(of: tenant)) }
            if number % 20 == 0 { progress(".") }
        }
        let hotPath = try baselineCopy(of: hot)
        await seeding.shutdown()
        progress("\n")
        sync()  // flush the new files, so that writeback does not run during the timed loops

        let ids = randomTaskIDs(count: 4_096)

        // 1. cold_open: every call is a tenant whose pool is not open (LRU over far more tenants
        //    than maximumOpenPools), so it pays the pool open, the PRAGMAs and the migration check.
        if options.runs("cold_open") {
            let opensBefore = opened.count
            let coldOpen = try await compare(
                "cold_open", rounds: plan.rounds, iterations: plan.coldOpen, warmup: plan.coldOpenWarmup,
                tenanted: { call in
                    let id = ids[call % ids.count]
                    try await tenancy.withTenant(coldTenants[call % coldTenants.count]) {
                        try await tenancy.currentPool(as: SQLitePool.self).read { try await Schema.selectTask($0, id: id) }
                    }
                },
                baseline: { call in
                    try await baseline.coldOpen(coldPaths[call % coldPaths.count], taskID: ids[call % ids.count])
                })
            let coldCalls = plan.coldOpen + plan.rounds * plan.coldOpenWarmup
            guard opened.count - opensBefore == coldCalls else {
                throw BenchmarkError("cold_open opened \(opened.count - opensBefore) pools for \(coldCalls) calls: not all cold")
            }
            report.append(coldOpen)
        }

        // 2. create_tenant: a new tenant with the five migrations run (create_tenant_migrated, the
        //    figure before templates), against a new file migrated by hand; and a new tenant copied
        //    from the migrated template (create_tenant), against a raw copy + fsync + rename of the
        //    same template file.
        if options.runs("create_tenant") {
            let migrating = try Tenancy(
                store: try tenancy.store(as: SQLiteStore.self), configuration: .init(createsFromTemplate: false), migrator: try Schema.migrator(), logger: logger
            )
            report.append(try await compare(
                "create_tenant_migrated", rounds: plan.rounds, iterations: plan.createTenant, warmup: plan.createTenantWarmup,
                tenanted: { call in
                    try await migrating.createTenant(try TenantID("migrated-\(call)"))
                },
                baseline: { call in
                    try await baseline.createTenant(directory + "/baseline/new-\(call).sqlite")
                }))
            await migrating.shutdown()
            try await tenancy.createTenant(try TenantID("first-from-template"))  // makes the template
            let templates = directory + "/tenanted/.tenanted-templates"
            guard let template = try FileManager.default.contentsOfDirectory(atPath: templates).first(where: { $0.hasSuffix(".sqlite3") }) else {
                throw BenchmarkError("no template was made")
            }
            let templatePath = templates + "/" + template
            report.append(try await compare(
                "create_tenant", rounds: plan.rounds, iterations: plan.createTenant, warmup: plan.createTenantWarmup,
                tenanted: { call in
                    try await tenancy.createTenant(try TenantID("new-\(call)"))
                },
                baseline: { call in
                    try copySyncRename(templatePath, to: directory + "/baseline/copy-\(call).sqlite")
                }))
        }

        // backup_50mb / restore_50mb: one tenant of about 50 MB, backed up and restored once each.
        if options.runs("backup_restore") {
            report.figures.append(contentsOf: try await backupAndRestore(tenancy: tenancy, directory: directory, megabytes: options.quick ? 10 : 50))
        }

        // 3 and 4. Primary-key selects on a warm pool, against the same select on an open connection.
        if options.runs("pk_select") {
            let connection = try await baseline.open(hotPath)
            do {
                let opensBefore = opened.count
                let warm = try await compare(
                    "pk_select_warm", rounds: plan.rounds, iterations: plan.pkSelect, warmup: plan.pkSelectWarmup,
                    tenanted: { call in
                        let id = ids[call % ids.count]
                        try await tenancy.withTenant(hot) {
                            try await tenancy.currentPool(as: SQLitePool.self).read { try await Schema.selectTask($0, id: id) }
                        }
                    },
                    baseline: { call in
                        try await Schema.selectTask(connection, id: ids[call % ids.count])
                    })
                report.append(warm)
                report.figures.append(try await staleCheck(tenancy: tenancy, tenant: hot, iterations: plan.pkSelect * 20, warm: warm))

                // One scope around the whole comparison: only the pool's lending is left on Tenanted's
                // side (the baseline ignores the scope).
                report.append(try await tenancy.withTenant(hot) {
                    try await compare(
                        "pk_select_warm_in_scope", rounds: plan.rounds, iterations: plan.pkSelect,
                        warmup: plan.pkSelectWarmup,
                        tenanted: { call in
                            let id = ids[call % ids.count]
                            try await tenancy.currentPool(as: SQLitePool.self).read { try await Schema.selectTask($0, id: id) }
                        },
                        baseline: { call in
                            try await Schema.selectTask(connection, id: ids[call % ids.count])
                        })
                })
                guard opened.count - opensBefore <= 1 else {
                    throw BenchmarkError("the warm figures opened \(opened.count - opensBefore) pools instead of at most 1")
                }
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        }

        // 5 to 7. Thousands of tenants, copies of one template; and 100,000 of them, only when
        // asked for by name (`--only scale`, `scripts/bench --scale`): it takes about fifteen minutes.
        let runsScale = options.only.contains("scale")
        let many = ["churn", "migrate_all", "pool_memory"].filter(options.runs) + (runsScale ? ["scale"] : [])
        if !many.isEmpty {
            let tenants = try await ManyTenants.make(in: directory + "/many", logger: logger)
            if options.runs("churn") {
                report.figures += try await churn(plan: plan, many: tenants, baseline: baseline, logger: logger)
            }
            if options.runs("migrate_all") {
                report.figures += try await migrateAll(plan: plan, many: tenants, baseline: baseline, logger: logger)
            }
            if options.runs("pool_memory") {
                report.figures += try await poolMemory(plan: plan, many: tenants, baseline: baseline, logger: logger)
            }
            if runsScale {
                report.figures += try await scale(plan: plan, options: options, many: tenants, baseline: baseline, logger: logger)
            }
        }
        return report
    }
}

/// Counts the pools Tenanted opens, to check that the cold figure is cold and the warm ones warm.
final class OpenCounter: TenancyDelegate {
    private let opens = Atomic<Int>(0)

    var count: Int { opens.load(ordering: .relaxed) }

    func poolOpened(_ tenant: TenantID) {
        opens.add(1, ordering: .relaxed)
    }
}
