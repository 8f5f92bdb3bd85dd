import BenchmarkSupport

/// Iteration counts (totals over all rounds) and warm-up calls (per round and side); `--quick`
/// shrinks them.
///
/// Each figure runs in `rounds` rounds; a round gives Tenanted and the baseline one slice of the
/// iterations each, the first side alternating from round to round, so that a slow phase of a noisy
/// machine hits both sides alike.
struct Plan: Codable, Sendable {
    var rounds = 5
    var coldOpen = 1_000, coldOpenWarmup = 10
    /// Tenants the cold open rotates over; far more than `maximumOpenPools`, so every use is cold.
    var coldTenants = 200
    var maximumOpenPools = 8
    var createTenant = 50, createTenantWarmup = 2
    var pkSelect = 10_000, pkSelectWarmup = 200
    /// Churn: tenants, the pool cap (and the baseline's LRU capacity), calls per pattern.
    var churnTenants = 10_000, churnPoolCap = 50
    var churnCalls = 20_000, churnWarmup = 100
    /// Migrate-all: tenants of the no-op runs; tenants and concurrency of the new-migration runs.
    var noopCounts = [1_000, 10_000]
    var migrateTenants = 1_000, parallelMigrations = 4
    /// Pools opened for the RSS-per-pool figure.
    var memoryPools = 200

    /// A tenth of the calls, 2,000 tenants for churn, no 10,000-tenant migrate, 200 tenants for the
    /// new migration: under a minute, most of it copying files.
    static func quick() -> Plan {
        Plan(rounds: 2, coldOpen: 100, coldOpenWarmup: 2, coldTenants: 40, createTenant: 10,
             createTenantWarmup: 1, pkSelect: 1_000, pkSelectWarmup: 50,
             churnTenants: 2_000, churnCalls: 2_000, churnWarmup: 20, noopCounts: [1_000],
             migrateTenants: 200, memoryPools: 100)
    }
}
