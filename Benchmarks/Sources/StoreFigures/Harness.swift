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

    static func quick() -> Plan {
        Plan(rounds: 2, coldOpen: 100, coldOpenWarmup: 2, coldTenants: 40, createTenant: 10,
             createTenantWarmup: 1, pkSelect: 1_000, pkSelectWarmup: 50)
    }
}

/// One figure: Tenanted and the raw baseline doing the same work.
struct Comparison: Codable, Sendable {
    var name: String
    var tenanted: Summary
    var baseline: Summary
}

/// Runs `tenanted` and `baseline` for `iterations` calls each, in `rounds` rounds with the first
/// side alternating; each body gets its own call index (warm-up included).
func compare(
    _ name: String,
    rounds: Int,
    iterations: Int,
    warmup: Int,
    tenanted: (Int) async throws -> Void,
    baseline: (Int) async throws -> Void
) async throws -> Comparison {
    progress("· \(name) ")
    let tenantedSeries = Series()
    let baselineSeries = Series()
    for round in 0..<rounds {
        let slice = iterations / rounds + (round < iterations % rounds ? 1 : 0)
        for side in 0..<2 {
            if (round + side) % 2 == 0 {
                try await tenantedSeries.run(iterations: slice, warmup: warmup, tenanted)
            } else {
                try await baselineSeries.run(iterations: slice, warmup: warmup, baseline)
            }
        }
        progress(".")
    }
    progress("\n")
    return Comparison(name: name, tenanted: tenantedSeries.summary(), baseline: baselineSeries.summary())
}
