import BenchmarkSupport
import Foundation

struct Report: Codable, Sendable {
    var generatedAt: String
    var cores: Int
    /// `/proc/loadavg` before and after the run: another build on the machine shows here.
    var loadAverage: [String] = []
    /// sqlite-nio's amalgamation: both drivers open their connections through sqlite-nio.
    var sqliteVersion: String
    /// Versions resolved for the Benchmarks/ package.
    var packages: [String: String]
    /// The root package's commit (`git rev-parse HEAD`), when it could be read.
    var rootCommit: String?
    var plan: Plan
    /// `journal_mode`, `synchronous`, `busy_timeout`, `foreign_keys` as each driver's connection
    /// reports them (`tenanted`, `stock`).
    var settings: [String: [String: String]] = [:]
    /// Every workload: `tenanted` is Tenanted's driver through the routing database, `baseline` the
    /// same driver on a pool without Tenanted (`routing_*`) or the stock FluentSQLiteDriver (`*_vs_stock`).
    var comparisons: [Comparison] = []
    /// What `scripts/bench` prints: each comparison's median and p99, then the allocation counts.
    var figures: [Figure] = []

    /// The results as a Markdown table, in µs per operation.
    func table() -> String {
        func format(_ value: Double) -> String { String(format: "%.1f", value) }
        var lines = [
            "| workload | Tenanted median | Tenanted p99 | Tenanted mean | stock median | stock p99 | stock mean | median ratio |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for comparison in comparisons {
            let ours = comparison.tenanted, stock = comparison.baseline
            lines.append("| `\(comparison.name)` | \(format(ours.medianMicros)) | \(format(ours.p99Micros)) | "
                + "\(format(ours.meanMicros)) | \(format(stock.medianMicros)) | \(format(stock.p99Micros)) | "
                + "\(format(stock.meanMicros)) | " + String(format: "%.2f", ours.medianMicros / stock.medianMicros) + " |")
        }
        return lines.joined(separator: "\n")
    }
}
