import BenchmarkSupport

/// Iteration counts (totals over all rounds) and warm-up calls (per round and side); `--quick`
/// shrinks them.
///
/// Each workload runs in `rounds` rounds; a round gives Tenanted's driver and the stock driver one
/// slice of the iterations each, the first side alternating from round to round
/// (`compare` in BenchmarkSupport), so that a slow phase of a noisy machine hits both alike.
struct Plan: Codable, Sendable {
    var rounds = 5
    var coldOpen = 1_000, coldOpenWarmup = 10
    /// Tenants (and, on the stock side, copies of their files) the cold open rotates over.
    var coldFiles = 20
    var pkSelect = 10_000, pkSelectWarmup = 200
    var insert = 2_000, insertWarmup = 20
    /// Calls counted for the allocations per routed query, each side.
    var allocationCalls = 2_000

    static func quick() -> Plan {
        Plan(rounds: 2, coldOpen: 100, coldOpenWarmup: 2, coldFiles: 5, pkSelect: 1_000, pkSelectWarmup: 50,
             insert: 200, insertWarmup: 5, allocationCalls: 500)
    }
}
