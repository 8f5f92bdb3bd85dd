import BenchmarkSupport
import Foundation

/// One printed line: `name: value unit (baseline: value, ratio: x)`.
struct Figure: Codable, Sendable {
    var name: String
    var value: Double
    var unit: String
    var baseline: Double
    /// `value / baseline`: how many times the baseline's time Tenanted takes.
    var ratio: Double

    var line: String {
        "\(name): " + String(format: "%.1f", value) + " \(unit) (baseline: " + String(format: "%.1f", baseline)
            + ", ratio: " + String(format: "%.2f", ratio) + ")"
    }
}

struct Report: Codable, Sendable {
    var generatedAt: String
    var cores: Int
    /// `/proc/loadavg` before and after the run: another build on the machine shows here.
    var loadAverage: [String] = []
    var sqliteVersion: String
    /// The root package's commit (`git rev-parse HEAD`), when it could be read.
    var rootCommit: String?
    var plan: Plan
    /// Two per comparison: its median and its p99.
    var figures: [Figure] = []
    /// Every comparison in full (iterations and means too).
    var comparisons: [Comparison] = []

    mutating func append(_ comparison: Comparison) {
        comparisons.append(comparison)
        for (statistic, value, baseline) in [
            ("median", comparison.tenanted.medianMicros, comparison.baseline.medianMicros),
            ("p99", comparison.tenanted.p99Micros, comparison.baseline.p99Micros),
        ] {
            figures.append(Figure(
                name: "\(comparison.name)_\(statistic)", value: value, unit: "µs",
                baseline: baseline, ratio: value / baseline))
        }
    }
}
