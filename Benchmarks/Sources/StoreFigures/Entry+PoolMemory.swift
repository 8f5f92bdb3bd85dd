import BenchmarkSupport
import HeapUsage
import Foundation
import Logging
import SQLiteNIO
import Tenanted
import TenantedSQLite
#if canImport(Glibc)
import Glibc
#endif

extension Entry {
    /// RSS per open tenant pool: the growth of the resident set (`/proc/self/statm`) while
    /// `plan.memoryPools` pools are opened and each serves one PK select (one connection each: a
    /// read uses the idle writer), over their count; against raw connections to as many copies,
    /// each with one select. The malloc heap in use (`mallinfo2`) gives a second figure that freed
    /// memory malloc keeps cannot hide. Ten pools and ten connections open first, unmeasured, so
    /// that one-time costs stay out; Tenanted's side is measured first and nothing is freed before
    /// both are. `scripts/bench` runs this alone in a fresh process (`--only pool_memory`), so that
    /// the memory other workloads freed does not absorb the growth.
    static func poolMemory(plan: Plan, many: ManyTenants, baseline: Baseline, logger: Logger) async throws -> [Figure] {
        let count = plan.memoryPools, warmup = 10
        let (store, tenants) = try many.store("memory", count: warmup + count, logger: logger)
        let paths = try many.files("memory-baseline", count: warmup + count)
        sync()
        let tenancy = try Tenancy(
            store: store, configuration: .init(pools: .init(maximumOpenPools: warmup + count + 1)),
            migrator: try Schema.migrator(), logger: logger)
        var connections: [SQLiteConnection] = []
        let outcome: Result<[Figure], any Error>
        do {
            func openPools(_ tenants: ArraySlice<TenantID>) async throws {
                for tenant in tenants {
                    try await tenancy.withTenant(tenant) {
                        try await tenancy.currentPool(as: SQLitePool.self).read { try await Schema.selectTask($0, id: 1) }
                    }
                }
            }
            func openConnections(_ paths: ArraySlice<String>) async throws {
                for path in paths {
                    let connection = try await baseline.open(path)
                    connections.append(connection)
                    try await Schema.selectTask(connection, id: 1)
                }
            }
            try await openPools(tenants.prefix(warmup))
            try await openConnections(paths.prefix(warmup))
            let start = (resident: residentBytes(), heap: heapBytes())
            try await openPools(tenants.dropFirst(warmup))
            let afterPools = (resident: residentBytes(), heap: heapBytes())
            guard tenancy.pools.openCount == warmup + count else {
                throw BenchmarkError("\(tenancy.pools.openCount) pools open instead of \(warmup + count)")
            }
            try await openConnections(paths.dropFirst(warmup))
            let afterConnections = (resident: residentBytes(), heap: heapBytes())
            func perOne(_ bytes: Int) -> Double { Double(bytes) / Double(count) / 1024 }
            outcome = .success([
                Figure(name: "rss_per_open_pool", value: perOne(afterPools.resident - start.resident), unit: "KiB",
                       baseline: perOne(afterConnections.resident - afterPools.resident)),
                Figure(name: "heap_per_open_pool", value: perOne(afterPools.heap - start.heap), unit: "KiB",
                       baseline: perOne(afterConnections.heap - afterPools.heap)),
            ])
        } catch {
            outcome = .failure(error)
        }
        for connection in connections { try? await connection.close() }
        await tenancy.shutdown()
        return try outcome.get()
    }

    /// The bytes malloc has handed out and not had back (`mallinfo2().uordblks`; 0 elsewhere than glibc).
    static func heapBytes() -> Int {
        Int(heap_usage_in_use_bytes())
    }

    /// The resident set size of this process, from `/proc/self/statm` (0 where there is none).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
