import BenchmarkSupport
import Tenanted
import TenantedSQLite

extension Entry {
    /// `stale_check`: what every lease of a warm pool pays to learn whether another process destroyed
    /// or replaced the tenant (`SQLiteStore.isCurrent`: one `stat` of the database path), against the
    /// warm primary-key select of the same run. Goal: under 2 µs, ratio under 0.01.
    static func staleCheck(tenancy: Tenancy, tenant: TenantID, iterations: Int, warm: Comparison) async throws -> Figure {
        let store = try tenancy.store(as: SQLiteStore.self)
        let pool = try await tenancy.withTenant(tenant) { try tenancy.currentPool(as: SQLitePool.self) }
        var current = 0
        for _ in 0..<1_000 where store.isCurrent(pool) { current += 1 }
        let clock = ContinuousClock()
        let started = clock.now
        for _ in 0..<iterations where store.isCurrent(pool) { current += 1 }
        let elapsed = clock.now - started
        guard current == iterations + 1_000 else {
            throw BenchmarkError("stale_check found the warm pool stale \(iterations + 1_000 - current) times")
        }
        let micros = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
        return Figure(name: "stale_check", value: micros / Double(iterations), unit: "µs", baseline: warm.tenanted.medianMicros)
    }
}
