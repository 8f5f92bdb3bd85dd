import BenchmarkSupport
import Foundation

struct Report: Codable, Sendable {
    var generatedAt: String
    var cores: Int
    /// `/proc/loadavg` before and after the run: another build on the machine shows here.
    var loadAverage: [String] = []
    var sqliteVersion: String
    /// The root package's commit (`git rev-parse HEAD`), when it could be read.
    var rootCommit: String?
    var plan: Plan
    /// Two per comparison (its median and its p99), then the churn, migrate-all and memory figures.
    var figures: [Figure] = []
    /// Every comparison in full (iterations and means too).
    var comparisons: [Comparison] = []

    mutating func append(_ comparison: Comparison) {
        comparisons.append(comparison)
        figures += Figure.times(of: comparison)
    }
}
