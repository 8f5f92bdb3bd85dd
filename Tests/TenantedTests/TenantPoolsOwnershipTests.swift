import Synchronization
@testable import Tenanted
import TenantedTestSupport
import Testing

/// The registry owns its background work in postgres-nio's pool shape: a cancelled waiting lease
/// stops waiting at once, admission timeouts live only while a request is queued, and shutdown ends
/// every task — opens in progress included.
@Suite("Pool registry: owned tasks and cancellable waits")
struct TenantPoolsOwnershipTests {
    final class Pool: Sendable {
        let tenant: TenantID
        init(_ tenant: TenantID) { self.tenant = tenant }
    }

    static func tenant(_ name: String) -> TenantID {
        do { return try TenantID(name) } catch { preconditionFailure("\(name) is valid") }
    }

    /// A registry whose opens are counted and, for the tenants in `blocking`, wait for `gate`.
    static func registry(
        _ configuration: TenantPools<Pool>.Configuration,
        opens: Locked<[TenantID]>,
        blocking: Set<TenantID> = [],
        gate: Gate = Gate()
    ) throws -> TenantPools<Pool> {
        try TenantPools(
            configuration: configuration,
            open: { tenant in
                opens.append(tenant)
                if blocking.contains(tenant) {
                    await gate.wait()
                    try Task.checkCancellation()
                }
                return Pool(tenant)
            },
            close: { _ in }
        )
    }

    /// Leases `tenant`'s pool in a task that keeps it until `release` opens; returns once it holds it.
    static func holdLease(on tenant: TenantID, in pools: TenantPools<Pool>) async -> (Task<Void, any Error>, release: Gate) {
        let holding = Gate(), release = Gate()
        let holder = Task {
            try await pools.withPool(tenant) { _ in
                holding.open()
                await release.wait()
            }
        }
        await holding.wait()
        return (holder, release)
    }

    @Test("a lease queued at the hard limit stops waiting at once when its task is cancelled, and no pool opens for it")
    func cancelQueuedLease() async throws {
        let opens = Locked([TenantID]())
        let pools = try Self.registry(.init(maximumOpenPools: 1, maximumOverflow: 0, overflowTimeout: .seconds(60)), opens: opens)
        let (holder, release) = await Self.holdLease(on: Self.tenant("acme"), in: pools)
        let queued = Task { try await pools.withPool(Self.tenant("globex")) { _ in } }
        while pools.liveTimerCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
        let clock = ContinuousClock()
        let cancelled = clock.now
        queued.cancel()
        await #expect(throws: CancellationError.self) { try await queued.value }
        // Against the 60-second admission timeout, with room for a loaded machine (5.6 s was seen).
        #expect(clock.now - cancelled < .seconds(30), "it did not wait for the 60-second timeout")
        #expect(pools.liveTimerCount == 0, "its admission timeout was cancelled")
        release.open()
        try await holder.value
        try await pools.withPool(Self.tenant("acme")) { _ in }
        #expect(opens.value == [Self.tenant("acme")], "no pool was opened for the cancelled request")
        await pools.shutdown()
        #expect(pools.liveTaskCount == 0)
    }

    @Test("a lease waiting for its tenant's pool to open stops waiting at once when cancelled")
    func cancelLeaseWaitingForOpen() async throws {
        let opens = Locked([TenantID]())
        let gate = Gate()
        let acme = Self.tenant("acme")
        let pools = try Self.registry(.init(), opens: opens, blocking: [acme], gate: gate)
        let waiting = Task { try await pools.withPool(acme) { _ in } }
        while opens.value.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        gate.open()
        // The open itself completes (the pool stays, idle) and serves the next lease.
        try await pools.withPool(acme) { #expect($0.tenant == acme) }
        #expect(opens.value == [acme])
        await pools.shutdown()
    }

    @Test("admission timeouts live only while requests are queued: none is left after they are admitted")
    func timersEndWithAdmission() async throws {
        let opens = Locked([TenantID]())
        let pools = try Self.registry(.init(maximumOpenPools: 1, maximumOverflow: 0, overflowTimeout: .seconds(60)), opens: opens)
        let (holder, release) = await Self.holdLease(on: Self.tenant("acme"), in: pools)
        let queued = (1...3).map { number in Task { try await pools.withPool(Self.tenant("t\(number)")) { _ in } } }
        while pools.liveTimerCount < 3 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(pools.liveTimerCount == 3, "one timeout per queued request")
        release.open()
        try await holder.value
        for request in queued { try await request.value }
        #expect(pools.liveTimerCount == 0, "every timeout was cancelled as its request was admitted")
        await pools.shutdown()
        #expect(pools.liveTaskCount == 0)
    }

    @Test("shutdown with a lease queued and a pool opening: the queued lease fails, the open is cancelled, and no task is left")
    func shutdownWithQueuedLeaseAndOpeningPool() async throws {
        let opens = Locked([TenantID]())
        let gate = Gate()
        let slow = Self.tenant("slow")
        let pools = try Self.registry(.init(maximumOpenPools: 1, maximumOverflow: 0, overflowTimeout: .seconds(60)), opens: opens, blocking: [slow], gate: gate)
        let opening = Task { try await pools.withPool(slow) { _ in } }
        while opens.value.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
        let queued = Task { try await pools.withPool(Self.tenant("queued")) { _ in } }
        while pools.liveTimerCount == 0 { try await Task.sleep(for: .milliseconds(1)) }

        let shutdown = Task { await pools.shutdown() }
        let queuedError = await #expect(throws: TenantedError.self) { try await queued.value }
        #expect(queuedError?.code == .shutdown)
        gate.open()  // the open sees its cancellation
        let openingError = await #expect(throws: TenantedError.self) { try await opening.value }
        #expect(openingError?.code == .shutdown)
        await shutdown.value
        #expect(pools.liveTaskCount == 0, "every open, close and timer ended with the registry")
        #expect(pools.openCount == 0)
    }
}
