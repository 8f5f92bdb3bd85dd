import BenchmarkSupport
import Foundation
import Logging
import Tenanted
import TenantedSQLite
#if canImport(Glibc)
import Glibc
#endif

extension Entry {
    /// Workload 5: `migrateAll()` with nothing pending over each count of `plan.noopCounts`
    /// (default concurrency), and with one new migration over `plan.migrateTenants`, sequential
    /// (concurrency 1) and parallel (`plan.parallelMigrations`); against the same work by hand on
    /// raw connections, at the same concurrency. Each is timed once, whole, in ms; the side that
    /// goes first alternates.
    static func migrateAll(plan: Plan, many: ManyTenants, baseline: Baseline, logger: Logger) async throws -> [Figure] {
        var figures: [Figure] = []
        let concurrency = Tenancy.Configuration().defaultConcurrency
        var first = 0
        func timed(
            _ name: String, tenanted: () async throws -> Void, baseline: () async throws -> Void
        ) async throws {
            var times = [0.0, 0.0]
            for side in [first, 1 - first] {
                let start = ContinuousClock.now
                if side == 0 { try await tenanted() } else { try await baseline() }
                times[side] = nanoseconds(start.duration(to: .now)) / 1e6
            }
            first = 1 - first
            figures.append(Figure(name: name, value: times[0], unit: "ms", baseline: times[1]))
            progress("· \(name): \(String(format: "%.0f", times[0])) ms, baseline \(String(format: "%.0f", times[1])) ms\n")
        }

        for count in plan.noopCounts {
            let (store, _) = try many.store("current-\(count)", count: count, logger: logger)
            let paths = try many.files("current-baseline-\(count)", count: count)
            sync()
            let tenancy = try Tenancy(store: store, migrator: try Schema.migrator(), logger: logger)
            let expected = BenchmarkSchema.migrations.count
            try await withShutdown(tenancy) {
                try await timed("migrate_all_noop_\(count)", tenanted: {
                    let report = try await tenancy.migrateAll()
                    guard report.succeeded, report.current.count == count else {
                        throw BenchmarkError("no-op migrateAll: \(report.current.count) current of \(count), \(report.failures.count) failed")
                    }
                }, baseline: {
                    try await forEachConcurrently(paths, maximumConcurrency: concurrency) {
                        try await baseline.checkMigrations($0, expected: expected)
                    }
                })
            }
        }

        let migrator = try SQLiteMigrator((BenchmarkSchema.migrations + [BenchmarkSchema.nextMigration]).map {
            SQLiteMigrator.Migration(name: $0.name, statements: $0.statements)
        })
        let count = plan.migrateTenants
        for (label, maximumConcurrency) in [("sequential", 1), ("parallel", plan.parallelMigrations)] {
            let (store, _) = try many.store("migrate-\(label)", count: count, logger: logger)
            let paths = try many.files("migrate-baseline-\(label)", count: count)
            sync()
            let tenancy = try Tenancy(store: store, migrator: migrator, logger: logger)
            let migration = BenchmarkSchema.nextMigration
            try await withShutdown(tenancy) {
                try await timed("migrate_one_\(count)_\(label)", tenanted: {
                    let report = try await tenancy.migrateAll(maximumConcurrency: maximumConcurrency)
                    guard report.succeeded, report.migrated.count == count else {
                        throw BenchmarkError("migrateAll: \(report.migrated.count) migrated of \(count), \(report.failures.count) failed")
                    }
                }, baseline: {
                    try await forEachConcurrently(paths, maximumConcurrency: maximumConcurrency) {
                        try await baseline.apply(migration, to: $0)
                    }
                })
            }
        }
        return figures
    }

    /// Runs `body`, then shuts `tenancy` down, whether `body` throws or not.
    static func withShutdown<Result>(
        _ tenancy: Tenancy, _ body: () async throws -> Result
    ) async throws -> Result {
        let outcome: Swift.Result<Result, any Error>
        do {
            outcome = .success(try await body())
        } catch {
            outcome = .failure(error)
        }
        await tenancy.shutdown()
        return try outcome.get()
    }
}
