import Synchronization
@testable import Tenanted
import Testing

/// A pool stand-in for the registry's own tests: the registry is generic over the store's pool, and
/// these tests are about its bookkeeping under concurrency, not about a database.
private final class CountingPool: Sendable {
    let tenant: TenantID
    let isClosed = Mutex(false)
    init(_ tenant: TenantID) { self.tenant = tenant }
}

private final class Ledger: Sendable {
    let opens = Mutex<[TenantID]>([])
    let closes = Mutex<[TenantID]>([])

    func pools(
        _ configuration: TenantPools<CountingPool>.Configuration,
        openDelay: Duration = .zero
    ) throws -> TenantPools<CountingPool> {
        try TenantPools(
            configuration: configuration,
            open: { tenant in
                self.opens.withLock { $0.append(tenant) }
                if openDelay > .zero { try await Task.sleep(for: openDelay) }
                return CountingPool(tenant)
            },
            close: { pool in
                pool.isClosed.withLock { $0 = true }
                self.closes.withLock { $0.append(pool.tenant) }
            }
        )
    }
}

private func tenant(_ name: String) -> TenantID {
    do { return try TenantID(name) } catch { preconditionFailure("\(name) is valid") }
}

@Suite("Pool registry")
struct TenantPoolsTests {
    @Test("bad configuration values are refused with invalidConfiguration")
    func badConfiguration() {
        let bad: [TenantPools<CountingPool>.Configuration] = [
            .init(maximumOpenPools: 0),
            .init(maximumOpenPools: -3),
            .init(maximumOverflow: -1),
            .init(overflowTimeout: .zero),
            .init(idleTimeout: .seconds(-1)),
        ]
        for configuration in bad {
            #expect {
                try configuration.validate()
            } throws: { error in
                (error as? TenantedError)?.code == .invalidConfiguration
            }
        }
        #expect(TenantPools<CountingPool>.Configuration().maximumOpenPools == 50)
    }

    @Test("eight concurrent first uses of one tenant open exactly one pool")
    func singleFlight() async throws {
        let ledger = Ledger()
        let pools = try ledger.pools(.init(), openDelay: .milliseconds(50))
        let acme = tenant("acme")
        let seen = try await withThrowingTaskGroup(of: ObjectIdentifier.self) { group in
            for _ in 0..<8 {
                group.addTask { try await pools.withPool(acme) { ObjectIdentifier($0) } }
            }
            return try await group.reduce(into: Set()) { $0.insert($1) }
        }
        #expect(seen.count == 1)
        #expect(ledger.opens.withLock { $0 } == [acme])
        #expect(pools.openCount == 1)
        await pools.shutdown()
    }

    @Test("a leased pool is not closed by eviction; it closes after its lease ends")
    func leaseProtects() async throws {
        let ledger = Ledger()
        let pools = try ledger.pools(.init(maximumOpenPools: 1, maximumOverflow: 4))
        let acme = tenant("acme")
        let lease = try await pools.lease(acme)
        let pool = try #require(pools.pool(of: lease))
        try await pools.withPool(tenant("globex")) { _ in }
        try await pools.withPool(tenant("initech")) { _ in }
        #expect(!pool.isClosed.withLock { $0 }, "acme is leased")
        #expect(pools.openTenants.contains(acme))
        lease.release()
        lease.release()  // idempotent
        try await pools.withPool(tenant("umbrella")) { _ in }
        await pools.shutdown()
        #expect(pool.isClosed.withLock { $0 })
        #expect(Set(ledger.closes.withLock { $0 }) == Set(ledger.opens.withLock { $0 }))
    }

    @Test("a lease from one registry is not usable with another")
    func foreignLease() async throws {
        let first = try Ledger().pools(.init())
        let second = try Ledger().pools(.init())
        let lease = try await first.lease(tenant("acme"))
        #expect(first.pool(of: lease) != nil)
        #expect(second.pool(of: lease) == nil)
        lease.release()
        await first.shutdown()
        await second.shutdown()
    }

    @Test("past the hard limit a lease fails with poolLimitReached after the overflow timeout, never hangs")
    func overflowTimeout() async throws {
        let pools = try Ledger().pools(.init(maximumOpenPools: 1, maximumOverflow: 0, overflowTimeout: .milliseconds(100)))
        let held = try await pools.lease(tenant("acme"))
        await #expect {
            try await pools.withPool(tenant("globex")) { _ in }
        } throws: { error in
            (error as? TenantedError)?.code == .poolLimitReached
        }
        held.release()
        try await pools.withPool(tenant("globex")) { _ in }
        await pools.shutdown()
    }

    @Test("a failed open reaches every waiter, and a later use tries again")
    func openFailure() async throws {
        let attempts = Mutex(0)
        let pools = try TenantPools<CountingPool>(
            open: { tenant in
                let attempt = attempts.withLock { $0 += 1; return $0 }
                if attempt == 1 { throw TenantedError(.tenantNotFound, "not yet", tenant: tenant) }
                return CountingPool(tenant)
            },
            close: { _ in }
        )
        await #expect(throws: TenantedError.self) { try await pools.withPool(tenant("acme")) { _ in } }
        try await pools.withPool(tenant("acme")) { _ in }
        #expect(attempts.withLock { $0 } == 2)
        await pools.shutdown()
    }

    @Test("closing a tenant waits for its lease, refuses new leases meanwhile, then closes the pool")
    func closingWaits() async throws {
        let ledger = Ledger()
        let pools = try ledger.pools(.init())
        let acme = tenant("acme")
        let lease = try await pools.lease(acme)
        let events = Mutex<[String]>([])
        async let closing: Void = pools.closing(acme) {
            events.withLock { $0.append("body") }
        }
        // Wait until the block is in place: a new lease is refused.
        var refused = false
        for _ in 0..<200 where !refused {
            do {
                try await pools.withPool(acme) { _ in }
                try await Task.sleep(for: .milliseconds(5))
            } catch let error as TenantedError {
                refused = error.code == .tenantNotFound
            }
        }
        #expect(refused)
        #expect(events.withLock { $0 }.isEmpty, "the body waits for the lease")
        events.withLock { $0.append("release") }
        lease.release()
        try await closing
        #expect(events.withLock { $0 } == ["release", "body"])
        #expect(ledger.closes.withLock { $0 } == [acme])
        try await pools.withPool(acme) { _ in }  // unblocked
        await pools.shutdown()
    }

    @Test("the idle sweep closes pools unused for longer than the timeout")
    func idleSweep() async throws {
        let ledger = Ledger()
        let pools = try ledger.pools(.init(idleTimeout: .milliseconds(20)))
        try await pools.withPool(tenant("acme")) { _ in }
        try await Task.sleep(for: .milliseconds(40))
        pools.closeIdle(olderThan: .milliseconds(20))
        await pools.shutdown()
        #expect(ledger.closes.withLock { $0 } == [tenant("acme")])
    }

    @Test("after shutdown new leases fail with shutdown")
    func afterShutdown() async throws {
        let pools = try Ledger().pools(.init())
        await pools.shutdown()
        await #expect {
            try await pools.withPool(tenant("acme")) { _ in }
        } throws: { error in
            (error as? TenantedError)?.code == .shutdown
        }
    }
}
