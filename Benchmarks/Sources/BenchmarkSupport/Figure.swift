import Foundation

/// One printed figure, `name: value unit (baseline: value, ratio: x)`, the form every executable
/// prints and `scripts/bench` collects in `results/latest.json`.
public struct Figure: Codable, Sendable {
    public var name: String
    public var value: Double
    public var unit: String
    /// The same figure measured for the baseline in the same run; `nil` for a figure that has none
    /// (an absolute figure such as RSS per pool).
    public var baseline: Double?
    /// Tenanted's cost over the baseline's: `value / baseline` for times, sizes and counts,
    /// `baseline / value` for throughputs (`higherIsBetter`), so above 1 always means Tenanted does worse.
    public var ratio: Double?

    public init(name: String, value: Double, unit: String, baseline: Double?, higherIsBetter: Bool = false) {
        self.name = name
        self.value = value
        self.unit = unit
        self.baseline = baseline
        if let baseline, baseline > 0, value > 0 {
            ratio = higherIsBetter ? baseline / value : value / baseline
        }
    }

    /// The median and p99 of a comparison, in µs: `NAME_median`, `NAME_p99`.
    public static func times(of comparison: Comparison) -> [Figure] {
        [
            Figure(name: "\(comparison.name)_median", value: comparison.tenanted.medianMicros, unit: "µs",
                   baseline: comparison.baseline.medianMicros),
            Figure(name: "\(comparison.name)_p99", value: comparison.tenanted.p99Micros, unit: "µs",
                   baseline: comparison.baseline.p99Micros),
        ]
    }

    public var line: String {
        var line = "\(name): " + Self.format(value) + " \(unit)"
        if let baseline {
            line += " (baseline: " + Self.format(baseline)
            if let ratio { line += ", ratio: " + String(format: "%.2f", ratio) }
            line += ")"
        }
        return line
    }

    static func format(_ value: Double) -> String {
        abs(value) >= 100_000 || value == value.rounded() && abs(value) >= 100
            ? String(format: "%.0f", value) : String(format: "%.1f", value)
    }
}

/// What `results/latest.json` holds: every figure of a `scripts/bench` run, in the order printed,
/// and each executable's own report under its name.
public struct LatestResults: Codable, Sendable {
    /// When the first executable of the run wrote the file, and the machine it ran on.
    public var generatedAt = ISO8601DateFormatter().string(from: Date())
    public var cores = ProcessInfo.processInfo.activeProcessorCount
    public var memoryGiB = Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824
    public var rootCommit = BenchmarkSupport.rootCommit()
    /// `/proc/loadavg` as each executable finished: other builds on the machine show here.
    public var loadAverage: [String] = []
    public var figures: [Figure] = []
    public var sources: [String] = []

    /// Appends `figures` from the executable `source` to the file at `path` (created when missing).
    public static func append(_ figures: [Figure], from source: String, to path: String) throws {
        var latest = LatestResults()
        if let data = FileManager.default.contents(atPath: path) {
            latest = try JSONDecoder().decode(LatestResults.self, from: data)
        }
        latest.figures += figures
        latest.sources.append(source)
        latest.loadAverage.append(BenchmarkSupport.loadAverage())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try encoder.encode(latest).write(to: URL(fileURLWithPath: path))
    }
}

/// Prints each figure's line to stdout and, with `--latest PATH`, appends them to that file.
public func publish(_ figures: [Figure], from source: String, options: Options) throws {
    for figure in figures { print(figure.line) }
    if let latest = options.latest {
        try LatestResults.append(figures, from: source, to: latest)
    }
}
