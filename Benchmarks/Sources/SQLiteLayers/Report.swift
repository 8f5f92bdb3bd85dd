import Foundation

struct Report: Codable, Sendable {
    var generatedAt: String
    var cores: Int
    /// `/proc/loadavg` before and after the run: another build on the machine shows here.
    var loadAverage: [String] = []
    var packages: [String: String]
    var sqliteVersions: [String: String]
    var plan: Plan
    var results: [Measurement] = []
    var busyTimeoutCheck: [BusyOutcome] = []

    /// One block per workload, one line per layer.
    func table() -> String {
        var lines = ["", "layer                  workload           iters   median µs      p99 µs        ops/s  WAL left"]
        for workload in Workload.allCases {
            lines.append(String(repeating: "-", count: 96))
            for result in results where result.workload == workload {
                lines.append(
                    result.layer.padding(toLength: 23, withPad: " ", startingAt: 0)
                    + workload.rawValue.padding(toLength: 17, withPad: " ", startingAt: 0)
                    + String(format: "%7d %11.1f %11.1f %12.0f",
                             result.iterations, result.medianMicros, result.p99Micros, result.opsPerSecond)
                    + (result.walFilesLeftAfterClose.map { String(format: " %9d", $0) } ?? ""))
            }
        }
        lines.append("")
        lines.append("Busy-timeout check (a second connection wants to write while another holds the write lock):")
        for check in busyTimeoutCheck {
            lines.append("  \(check.scenario): waited " + String(format: "%.0f ms, CPU %.0f ms: ",
                check.waitedMillis, check.cpuMillisWhileWaiting) + check.outcome)
        }
        return lines.joined(separator: "\n")
    }
}
