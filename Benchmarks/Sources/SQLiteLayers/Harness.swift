import BenchmarkSupport

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

extension Measurement {
    /// What `series` measured, as the timings of `layer` in `workload`.
    init(layer: String, workload: Workload, series: Series) {
        let summary = series.summary()
        self.init(
            layer: layer,
            workload: workload,
            iterations: summary.iterations,
            medianMicros: summary.medianMicros,
            p99Micros: summary.p99Micros,
            meanMicros: summary.meanMicros,
            opsPerSecond: series.opsPerSecond)
    }
}
