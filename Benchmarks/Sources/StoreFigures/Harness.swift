import Foundation

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

/// Median, p99 and mean of one side of one figure, in µs.
struct Summary: Codable, Sendable {
    var iterations: Int
    var medianMicros: Double
    var p99Micros: Double
    var meanMicros: Double
}

/// The timings of one side of one figure, gathered over several rounds.
final class Series {
    private var samples: [Double] = []
    /// Counts every call, warm-up included; passed to the body so that it can pick a tenant or an id.
    private var calls = 0

    /// Calls `body` `warmup` times untimed, then `iterations` times, each timed with `ContinuousClock`.
    func run(iterations: Int, warmup: Int, _ body: (Int) async throws -> Void) async throws {
        for _ in 0..<warmup {
            try await body(calls)
            calls += 1
        }
        let clock = ContinuousClock()
        for _ in 0..<iterations {
            let start = clock.now
            try await body(calls)
            samples.append(nanoseconds(start.duration(to: clock.now)))
            calls += 1
        }
    }

    func summary() -> Summary {
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        let median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        let p99Rank = min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)
        return Summary(
            iterations: sorted.count,
            medianMicros: median / 1_000,
            p99Micros: sorted[p99Rank] / 1_000,
            meanMicros: sorted.reduce(0, +) / Double(sorted.count) / 1_000)
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

func nanoseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
}

/// Deterministic ids, so that both sides read the same rows in the same order.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomTaskIDs(count: Int, seed: UInt64 = 42) -> [Int] {
    var generator = SplitMix64(state: seed)
    return (0..<count).map { _ in Int.random(in: 1...Schema.taskCount, using: &generator) }
}

/// The first three fields of `/proc/loadavg` (1, 5 and 15 minutes), or "?".
func loadAverage() -> String {
    let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?"
    return text.split(separator: " ").prefix(3).joined(separator: " ")
}

/// Progress goes to stderr, unbuffered; the figures go to stdout.
func progress(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}
