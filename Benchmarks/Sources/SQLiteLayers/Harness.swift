import Foundation

enum Workload: String, CaseIterable, Codable, Sendable {
    case coldOpen = "cold open"
    case createAndMigrate = "create + migrate"
    case pkSelect = "PK select"
    case insert = "insert"
}

/// Iteration counts (totals over all rounds) and warm-up calls (per round); `--quick` shrinks them.
///
/// Each workload runs in `rounds` rounds; a round gives every layer one slice of the iterations,
/// in a rotating order, so that slow phases of a noisy machine hit all layers alike.
struct Plan: Codable, Sendable {
    var rounds = 5
    var coldOpen = 300, coldOpenWarmup = 5, coldOpenFiles = 50
    var createAndMigrate = 100, createAndMigrateWarmup = 2
    var pkSelect = 20_000, pkSelectWarmup = 500
    var insert = 2_000, insertWarmup = 50

    static func quick() -> Plan {
        Plan(rounds: 2, coldOpen: 30, coldOpenWarmup: 2, coldOpenFiles: 10, createAndMigrate: 10,
             createAndMigrateWarmup: 1, pkSelect: 2_000, pkSelectWarmup: 100, insert: 200, insertWarmup: 10)
    }
}

struct Measurement: Codable, Sendable {
    var layer: String
    var workload: Workload
    var iterations: Int
    var medianMicros: Double
    var p99Micros: Double
    var meanMicros: Double
    /// Iterations divided by the wall time of the timed loops.
    var opsPerSecond: Double
    /// Cold open and create + migrate: files whose `-wal` was left non-empty after the last close.
    var walFilesLeftAfterClose: Int?
}

/// The timings of one layer in one workload, gathered over several rounds.
final class Series {
    let layer: String
    let workload: Workload
    private var samples: [Double] = []
    private var wallNanoseconds = 0.0
    /// Counts every call, warm-up included; passed to the body so that it can pick a file or an id.
    private var calls = 0

    init(layer: String, workload: Workload) {
        self.layer = layer
        self.workload = workload
    }

    /// Calls `body` `warmup` times untimed, then `iterations` times, each timed with `ContinuousClock`.
    func run(iterations: Int, warmup: Int, _ body: (Int) async throws -> Void) async throws {
        for _ in 0..<warmup {
            try await body(calls)
            calls += 1
        }
        let clock = ContinuousClock()
        let loopStart = clock.now
        for _ in 0..<iterations {
            let start = clock.now
            try await body(calls)
            samples.append(nanoseconds(start.duration(to: clock.now)))
            calls += 1
        }
        wallNanoseconds += nanoseconds(loopStart.duration(to: clock.now))
    }

    var callCount: Int { calls }

    func measurement() -> Measurement {
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        let median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        let p99Rank = min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)
        return Measurement(
            layer: layer,
            workload: workload,
            iterations: sorted.count,
            medianMicros: median / 1_000,
            p99Micros: sorted[p99Rank] / 1_000,
            meanMicros: sorted.reduce(0, +) / Double(sorted.count) / 1_000,
            opsPerSecond: Double(sorted.count) / (wallNanoseconds / 1_000_000_000))
    }
}

func nanoseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
}

/// Deterministic ids, so that every layer reads the same rows in the same order.
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

/// Removes a database file together with its `-wal` and `-shm` companions.
func removeDatabase(at path: String) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        try? FileManager.default.removeItem(atPath: path + suffix)
    }
}
