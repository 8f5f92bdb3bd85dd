/// One comparison: Tenanted and a baseline (raw sqlite-nio, the stock Fluent driver) doing the same work.
public struct Comparison: Codable, Sendable {
    public var name: String
    public var tenanted: Summary
    public var baseline: Summary

    public init(name: String, tenanted: Summary, baseline: Summary) {
        self.name = name
        self.tenanted = tenanted
        self.baseline = baseline
    }
}

/// Runs `tenanted` and `baseline` for `iterations` calls each, in `rounds` rounds with the first
/// side alternating, so that a slow phase of a noisy machine hits both sides alike; each round gives
/// each side a slice of the iterations after `warmup` untimed calls. Each body gets its own call
/// index (warm-up included).
public func compare(
    _ name: String,
    rounds: Int,
    iterations: Int,
    warmup: Int,
    tenanted: (Int) async throws -> Void,
    baseline: (Int) async throws -> Void
) async throws -> Comparison {
    try await compareInRounds(
        name, rounds: rounds, iterations: iterations,
        tenanted: { series, slice in try await series.run(iterations: slice, warmup: warmup, tenanted) },
        baseline: { series, slice in try await series.run(iterations: slice, warmup: warmup, baseline) })
}

/// ``compare(_:rounds:iterations:warmup:tenanted:baseline:)`` for bodies that open something: after
/// each call, untimed, `closeTenanted` or `closeBaseline` takes down what it returned (see
/// ``Series/run(iterations:warmup:_:closing:)``).
public func compare<TenantedOpened, BaselineOpened>(
    _ name: String,
    rounds: Int,
    iterations: Int,
    warmup: Int,
    tenanted: (Int) async throws -> TenantedOpened,
    closingTenanted closeTenanted: (TenantedOpened) async throws -> Void,
    baseline: (Int) async throws -> BaselineOpened,
    closingBaseline closeBaseline: (BaselineOpened) async throws -> Void
) async throws -> Comparison {
    try await compareInRounds(
        name, rounds: rounds, iterations: iterations,
        tenanted: { series, slice in
            try await series.run(iterations: slice, warmup: warmup, tenanted, closing: closeTenanted)
        },
        baseline: { series, slice in
            try await series.run(iterations: slice, warmup: warmup, baseline, closing: closeBaseline)
        })
}

/// The rounds: `tenanted` and `baseline` each run one slice of the iterations into their series.
private func compareInRounds(
    _ name: String,
    rounds: Int,
    iterations: Int,
    tenanted: (Series, Int) async throws -> Void,
    baseline: (Series, Int) async throws -> Void
) async throws -> Comparison {
    progress("· \(name) ")
    let tenantedSeries = Series()
    let baselineSeries = Series()
    for round in 0..<rounds {
        let slice = iterations / rounds + (round < iterations % rounds ? 1 : 0)
        for side in 0..<2 {
            if (round + side) % 2 == 0 {
                try await tenanted(tenantedSeries, slice)
            } else {
                try await baseline(baselineSeries, slice)
            }
        }
        progress(".")
    }
    progress("\n")
    return Comparison(name: name, tenanted: tenantedSeries.summary(), baseline: baselineSeries.summary())
}
