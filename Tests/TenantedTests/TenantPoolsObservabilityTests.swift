import Logging
import MetricsTestKit
import ServiceLifecycle
import Synchronization
@testable import Tenanted
import Testing

private final class Pool: Sendable {
    let isClosed = Mutex(false)
}

private final class RecordingDelegate: TenancyDelegate {
    let events = Mutex<[String]>([])
    func poolOpened(_ tenant: TenantID) { events.withLock { $0.append("opened \(tenant)") } }
    func poolClosed(_ tenant: TenantID, reason: PoolCloseReason) { events.withLock { $0.append("\(reason) \(tenant)") } }
    func poolsOverflowed(openCount: Int, capacity: Int) { events.withLock { $0.append("overflow \(openCount)/\(capacity)") } }
}

private func tenant(_ name: String) -> TenantID {
    do { return try TenantID(name) } catch { preconditionFailure("\(name) is valid") }
}

@Suite("Pool registry observability and lifecycle")
struct TenantPoolsObservabilityTests {
    @Test("metrics count opens, evictions and overflows, gauge the open pools, and never label by tenant")
    func metrics() async throws {
        let metrics = TestMetrics()
        let delegate = RecordingDelegate()
        let pools = try TenantPools<Pool>(
            configuration: .init(maximumOpenPools: 1, maximumOverflow: 3),
            delegate: delegate,
            metricsFactory: metrics,
            open: { _ in Pool() },
            close: { $0.isClosed.withLock { $0 = true } }
        )
        try await pools.withPool(tenant("acme")) { _ in }
        try await pools.withPool(tenant("globex")) { _ in }  // evicts acme
        let held = try await pools.lease(tenant("initech"))  // evicts globex
        try await pools.withPool(tenant("umbrella")) { _ in }  // overflow: initech is leased
        held.release()
        await pools.shutdown()

        #expect(try metrics.expectCounter("tenanted_pools_opened_total").values.reduce(0, +) == 4)
        #expect(try metrics.expectCounter("tenanted_pools_evicted_total").values.reduce(0, +) >= 2)
        #expect(try metrics.expectCounter("tenanted_pools_overflow_total").values.reduce(0, +) == 1)
        #expect(try metrics.expectGauge("tenanted_pools_open").lastValue != nil)
        for counter in metrics.counters {
            #expect(counter.dimensions.isEmpty, "\(counter.label) has dimensions \(counter.dimensions)")
        }
        let events = delegate.events.withLock { $0 }
        #expect(events.contains("opened acme"))
        #expect(events.contains("evicted acme"))
        #expect(events.contains("overflow 2/1"))
        #expect(events.contains("shutdown umbrella") || events.contains("evicted umbrella") || events.contains("evicted initech"))
    }

    @Test("as a ServiceLifecycle service, graceful shutdown closes every pool")
    func service() async throws {
        let opened = Mutex<[Pool]>([])
        let pools = try TenantPools<Pool>(
            configuration: .init(idleTimeout: .seconds(60)),
            open: { _ in
                let pool = Pool()
                opened.withLock { $0.append(pool) }
                return pool
            },
            close: { $0.isClosed.withLock { $0 = true } }
        )
        let group = ServiceGroup(services: [pools], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await pools.withPool(tenant("acme")) { _ in }
            try await pools.withPool(tenant("globex")) { _ in }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let pools2 = opened.withLock { $0 }
        #expect(pools2.count == 2)
        #expect(pools2.allSatisfy { $0.isClosed.withLock { $0 } })
        #expect(pools.openCount == 0)
    }
}
