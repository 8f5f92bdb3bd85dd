import BenchmarkSupport
import Logging
import Tenanted
import TenantedSQLite
#if canImport(Glibc)
import Glibc
#endif

extension Entry {
    /// Workload 4, churn: PK selects spread over `plan.churnTenants` tenants with at most
    /// `plan.churnPoolCap` pools open, uniform and Zipf, against the same calls on raw connections
    /// kept in an LRU of the same capacity. One call at a time; ops/s is 1 / mean latency.
    static func churn(plan: Plan, many: ManyTenants, baseline: Baseline, logger: Logger) async throws -> [Figure] {
        progress("· churn: \(plan.churnTenants) tenants (copies of a template) on each side\n")
        let (store, tenants) = try many.store("current-\(plan.churnTenants)", count: plan.churnTenants, logger: logger)
        // The baseline's copies sit beside Tenanted's databases, in the same folders (see `copies`).
        let paths = try many.copies(besideTenantsOf: store, tenants)
        sync()
        let opened = OpenCounter()
        let tenancy = try Tenancy(
            store: store, configuration: .init(pools: .init(maximumOpenPools: plan.churnPoolCap)),
            migrator: try Schema.migrator(), delegate: opened, logger: logger)
        let lru = ConnectionLRU(capacity: plan.churnPoolCap, baseline: baseline)
        var figures: [Figure] = []
        let outcome: Result<Void, any Error>
        do {
            for pattern in [AccessPattern.uniform, .zipf] {
                let sequence = pattern.tenants(
                    count: tenants.count, calls: plan.churnCalls + plan.rounds * plan.churnWarmup)
                let opensBefore = opened.count
                let comparison = try await compare(
                    "churn_\(pattern.rawValue)", rounds: plan.rounds, iterations: plan.churnCalls,
                    warmup: plan.churnWarmup,
                    tenanted: { call in
                        let id = call % ManyTenants.taskCount + 1
                        try await tenancy.withTenant(tenants[sequence[call]]) {
                            try await tenancy.currentPool(as: SQLitePool.self).read { try await Schema.selectTask($0, id: id) }
                        }
                    },
                    baseline: { call in
                        let number = sequence[call]
                        let connection = try await lru.connection(number, path: paths[number])
                        try await Schema.selectTask(connection, id: call % ManyTenants.taskCount + 1)
                    })
                figures += Figure.times(of: comparison)
                figures.append(Figure(
                    name: "churn_\(pattern.rawValue)_ops", value: 1e6 / comparison.tenanted.meanMicros, unit: "ops/s",
                    baseline: 1e6 / comparison.baseline.meanMicros, higherIsBetter: true))
                let calls = plan.churnCalls + plan.rounds * plan.churnWarmup
                progress("  \(pattern.rawValue): \(opened.count - opensBefore) pool opens in \(calls) calls\n")
            }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await tenancy.shutdown()
        await lru.close()
        try outcome.get()
        return figures
    }
}
