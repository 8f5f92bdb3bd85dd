/// `duration` in nanoseconds.
public func nanoseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
}

/// Median, p99 and mean of one series of timed calls, in µs.
public struct Summary: Codable, Sendable {
    public var iterations: Int
    public var medianMicros: Double
    public var p99Micros: Double
    public var meanMicros: Double

    public init(iterations: Int, medianMicros: Double, p99Micros: Double, meanMicros: Double) {
        self.iterations = iterations
        self.medianMicros = medianMicros
        self.p99Micros = p99Micros
        self.meanMicros = meanMicros
    }
}

/// The timings of one side (a layer, Tenanted or its baseline) of one workload, gathered over
/// several rounds.
public final class Series {
    private var samples: [Double] = []
    private var wallNanoseconds = 0.0
    /// Counts every call, warm-up included; passed to the body so that it can pick a file, a tenant
    /// or an id.
    private var calls = 0

    public init() {}

    /// Calls `body` `warmup` times untimed, then `iterations` times, each timed with `ContinuousClock`.
    public func run(iterations: Int, warmup: Int, _ body: (Int) async throws -> Void) async throws {
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

    /// Like ``run(iterations:warmup:_:)`` for a body that opens something: each call runs `body`,
    /// timed, then `close` with what it returned, untimed, so that a sample is the open alone and
    /// every call starts with nothing open. The wall time counts the timed parts only.
    public func run<Opened>(
        iterations: Int,
        warmup: Int,
        _ body: (Int) async throws -> Opened,
        closing close: (Opened) async throws -> Void
    ) async throws {
        for _ in 0..<warmup {
            let opened = try await body(calls)
            calls += 1
            try await close(opened)
        }
        let clock = ContinuousClock()
        for _ in 0..<iterations {
            let start = clock.now
            let opened = try await body(calls)
            let elapsed = nanoseconds(start.duration(to: clock.now))
            samples.append(elapsed)
            wallNanoseconds += elapsed
            calls += 1
            try await close(opened)
        }
    }

    /// Every call so far, warm-up included.
    public var callCount: Int { calls }

    /// Timed iterations divided by the wall time of the timed loops.
    public var opsPerSecond: Double {
        Double(samples.count) / (wallNanoseconds / 1_000_000_000)
    }

    public func summary() -> Summary {
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

/// Deterministic ids, so that every layer or side reads the same rows in the same order.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64

    public init(state: UInt64) {
        self.state = state
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `count` task ids among the seeded ones (1...`BenchmarkSchema.taskCount`), the same on every run.
public func randomTaskIDs(count: Int, seed: UInt64 = 42) -> [Int] {
    var generator = SplitMix64(state: seed)
    return (0..<count).map { _ in Int.random(in: 1...BenchmarkSchema.taskCount, using: &generator) }
}
