@testable import Tenanted
import Testing

/// The registry's bookkeeping, driven event by event with no I/O. Pools are strings, waiters ints.
@Suite("Pool registry state machine")
struct TenantPoolsStateTests {
    typealias State = TenantPoolsState<String, Int, Int>

    static func t(_ number: Int) -> TenantID {
        do { return try TenantID("tenant\(number)") } catch { preconditionFailure("valid") }
    }

    /// Leases and immediately releases `tenant`, opening its pool if needed. Returns what was closed.
    @discardableResult
    static func use(_ state: inout State, _ tenant: TenantID, waiter: Int = 0) -> [TenantID] {
        var closed: [TenantID] = []
        let leased = state.lease(tenant, waiter: waiter)
        closed += leased.close.map(\.tenant)
        if leased.open == [tenant] {
            let opened = state.openSucceeded(tenant, pool: "pool-\(tenant)")
            #expect(opened.succeed.map(\.0) == [waiter])
            closed += opened.close.map(\.tenant)
        } else {
            #expect(leased.succeed.map(\.0) == [waiter])
        }
        closed += state.release(tenant, now: .now).close.map(\.tenant)
        return closed
    }

    @Test("activerecord-tenanted's LRU scenario: the 51st evicts tenant 1, a touch protects tenant 2, the next evicts tenant 3")
    func lruScenario() {
        var state = State(capacity: 50, overflow: 50)
        for number in 1...50 {
            #expect(Self.use(&state, Self.t(number)).isEmpty)
            #expect(state.entries.count == number)
        }
        #expect(Self.use(&state, Self.t(51)) == [Self.t(1)])
        #expect(state.entries.count == 50)
        #expect(Self.use(&state, Self.t(2)).isEmpty)  // touch tenant 2: already open
        #expect(Self.use(&state, Self.t(52)) == [Self.t(3)])
        #expect(state.entries.count == 50)
        #expect(state.entries[Self.t(2)] != nil)
        for number in 53...200 {
            Self.use(&state, Self.t(number))
            #expect(state.entries.count <= 50, "nothing is leased, so the count never exceeds the cap")
        }
    }

    @Test("concurrent first leases of one tenant open one pool and all get it")
    func singleFlight() {
        var state = State(capacity: 5, overflow: 0)
        let tenant = Self.t(1)
        var opens: [TenantID] = []
        for waiter in 0..<6 {
            let actions = state.lease(tenant, waiter: waiter)
            opens += actions.open
            #expect(actions.succeed.isEmpty)
        }
        #expect(opens == [tenant])
        let opened = state.openSucceeded(tenant, pool: "p")
        #expect(opened.succeed.map(\.0) == Array(0..<6))
        #expect(opened.succeed.allSatisfy { $0.1 == "p" })
        #expect(state.entries[tenant]?.leases == 6)
    }

    @Test("waiters of an open are told their pool is fresh (its open checked the tenant); a pool found open is not")
    func freshOnlyFromAnOpen() {
        var state = State(capacity: 5, overflow: 0)
        let tenant = Self.t(1)
        _ = state.lease(tenant, waiter: 0)
        _ = state.lease(tenant, waiter: 1)
        #expect(state.openSucceeded(tenant, pool: "p").succeed.map(\.fresh) == [true, true])
        #expect(state.lease(tenant, waiter: 2).succeed.map(\.fresh) == [false])
    }

    @Test("a leased pool is never evicted: the registry overflows, reports it, and shrinks back on release")
    func leasedNeverEvicted() {
        var state = State(capacity: 2, overflow: 5)
        for number in 1...2 {
            let actions = state.lease(Self.t(number), waiter: number)
            #expect(state.openSucceeded(Self.t(number), pool: "p\(number)").succeed.count == 1)
            #expect(actions.close.isEmpty)
        }
        let third = state.lease(Self.t(3), waiter: 3)
        #expect(third.close.isEmpty, "both open pools are leased")
        #expect(third.open == [Self.t(3)])
        #expect(third.overflow == 3)
        _ = state.openSucceeded(Self.t(3), pool: "p3")
        #expect(state.entries.count == 3)
        // Releasing tenant 1 makes it idle; the registry is over capacity, so it goes at once.
        let released = state.release(Self.t(1), now: .now)
        #expect(released.close.map(\.tenant) == [Self.t(1)])
        #expect(released.close.map(\.reason) == [.evicted])
        #expect(state.entries.count == 2)
    }

    @Test("past the hard limit a lease waits for a slot, gets one when a lease ends, or times out")
    func hardLimit() {
        var state = State(capacity: 1, overflow: 1)
        _ = state.lease(Self.t(1), waiter: 1)
        _ = state.openSucceeded(Self.t(1), pool: "p1")
        _ = state.lease(Self.t(2), waiter: 2)
        _ = state.openSucceeded(Self.t(2), pool: "p2")
        let queued = state.lease(Self.t(3), waiter: 3)
        #expect(queued.open.isEmpty)
        #expect(queued.queued.count == 1)
        let queuedAgain = state.lease(Self.t(4), waiter: 4)
        #expect(queuedAgain.queued.count == 1)

        // A release frees a slot: tenant 1 is evicted and tenant 3 is admitted.
        let released = state.release(Self.t(1), now: .now)
        #expect(released.close.map(\.tenant) == [Self.t(1)])
        #expect(released.open == [Self.t(3)])

        // Tenant 4 is still queued; its timer fires.
        let timedOut = state.admissionTimedOut(queuedAgain.queued[0])
        #expect(timedOut.fail.map(\.0) == [4])
        #expect(timedOut.fail.first?.1.code == .poolLimitReached)
        // A timer for an admission already let in does nothing.
        #expect(state.admissionTimedOut(queued.queued[0]).fail.isEmpty)
    }

    @Test("the warm fast path leases an open pool at once, and declines opening, blocked and shut-down tenants")
    func leaseIfOpen() {
        var state = State(capacity: 3, overflow: 0)
        #expect(state.leaseIfOpen(Self.t(1)) == nil, "no pool yet")
        _ = state.lease(Self.t(1), waiter: 1)
        #expect(state.leaseIfOpen(Self.t(1)) == nil, "still opening")
        _ = state.openSucceeded(Self.t(1), pool: "p1")
        #expect(state.leaseIfOpen(Self.t(1))?.pool == "p1")
        #expect(state.entries[Self.t(1)]?.leases == 2)
        _ = state.drain(Self.t(1), waiter: 9)
        #expect(state.leaseIfOpen(Self.t(1)) == nil, "blocked while being destroyed")
        _ = state.unblock(Self.t(1))
        _ = state.shutdown(waiter: 10)
        #expect(state.leaseIfOpen(Self.t(1)) == nil, "shut down")
    }

    @Test("the release fast path only takes releases that need no other action")
    func releaseWithoutActions() {
        var state = State(capacity: 1, overflow: 2)
        _ = state.lease(Self.t(1), waiter: 1)
        _ = state.openSucceeded(Self.t(1), pool: "p1")
        let fast = state.releaseWithoutActions(Self.t(1), now: .now)
        #expect(fast)
        #expect(state.entries[Self.t(1)]?.leases == 0)
        let nothingLeft = state.releaseWithoutActions(Self.t(1), now: .now)
        #expect(!nothingLeft, "no lease left to release")
        // Over capacity (tenant 2 overflowed while 1 was leased): the release must evict.
        _ = state.lease(Self.t(1), waiter: 2)
        _ = state.lease(Self.t(2), waiter: 3)
        _ = state.openSucceeded(Self.t(2), pool: "p2")
        let declined = state.releaseWithoutActions(Self.t(1), now: .now)
        #expect(!declined)
        let released = state.release(Self.t(1), now: .now)
        #expect(released.close.map(\.tenant) == [Self.t(1)])
    }

    @Test("a failed open fails every waiter and frees the slot")
    func openFailed() {
        var state = State(capacity: 3, overflow: 0)
        _ = state.lease(Self.t(1), waiter: 1)
        _ = state.lease(Self.t(1), waiter: 2)
        let failed = state.openFailed(Self.t(1), error: TenantedError(.tenantNotFound, "gone"))
        #expect(failed.fail.map(\.0) == [1, 2])
        #expect(state.entries.isEmpty)
        #expect(state.lease(Self.t(1), waiter: 3).open == [Self.t(1)], "a later lease tries again")
    }

    @Test("draining a tenant waits for its leases, blocks new ones, and closes the pool")
    func drain() {
        var state = State(capacity: 3, overflow: 0)
        _ = state.lease(Self.t(1), waiter: 1)
        _ = state.openSucceeded(Self.t(1), pool: "p1")
        let draining = state.drain(Self.t(1), waiter: 100)
        #expect(draining.resume.isEmpty && draining.close.isEmpty, "the lease is still held")
        let refused = state.lease(Self.t(1), waiter: 2)
        #expect(refused.fail.first?.1.code == .tenantNotFound)
        let released = state.release(Self.t(1), now: .now)
        #expect(released.close.map(\.tenant) == [Self.t(1)])
        #expect(released.close.map(\.reason) == [.closed])
        #expect(released.resume == [100])
        #expect(state.lease(Self.t(1), waiter: 3).fail.count == 1, "still blocked until unblocked")
        #expect(state.unblock(Self.t(1)).resume.isEmpty)
        #expect(state.lease(Self.t(1), waiter: 4).open == [Self.t(1)])
    }

    @Test("draining a tenant with no pool resumes at once")
    func drainWithoutPool() {
        var state = State(capacity: 3, overflow: 0)
        #expect(state.drain(Self.t(9), waiter: 1).resume == [1])
    }

    @Test("idle pools older than the deadline are closed; leased and recent ones stay")
    func idleSweep() {
        var state = State(capacity: 5, overflow: 0)
        let start = ContinuousClock.now
        Self.use(&state, Self.t(1))  // released "now"
        _ = state.lease(Self.t(2), waiter: 2)
        _ = state.openSucceeded(Self.t(2), pool: "p2")  // leased
        let nothing = state.closeIdle(unusedSince: start - .seconds(1))
        #expect(nothing.close.isEmpty)
        let swept = state.closeIdle(unusedSince: .now + .seconds(1))
        #expect(swept.close.map(\.tenant) == [Self.t(1)])
        #expect(swept.close.map(\.reason) == [.idle])
        #expect(state.entries.keys.sorted() == [Self.t(2)])
    }

    @Test("shutdown closes idle pools now, leased ones on release, fails new leases, then resumes")
    func shutdown() {
        var state = State(capacity: 5, overflow: 0)
        Self.use(&state, Self.t(1))
        _ = state.lease(Self.t(2), waiter: 2)
        _ = state.openSucceeded(Self.t(2), pool: "p2")
        let shut = state.shutdown(waiter: 99)
        #expect(shut.close.map(\.tenant) == [Self.t(1)])
        #expect(shut.resume.isEmpty)
        #expect(state.lease(Self.t(3), waiter: 3).fail.first?.1.code == .shutdown)
        let released = state.release(Self.t(2), now: .now)
        #expect(released.close.map(\.tenant) == [Self.t(2)])
        #expect(released.resume == [99])
    }

    @Test("a pool whose open finishes after shutdown is closed and its waiters fail")
    func openAfterShutdown() {
        var state = State(capacity: 5, overflow: 0)
        _ = state.lease(Self.t(1), waiter: 1)
        #expect(state.shutdown(waiter: 9).resume.isEmpty)
        let opened = state.openSucceeded(Self.t(1), pool: "late")
        #expect(opened.fail.map(\.0) == [1])
        #expect(opened.close.map(\.pool) == ["late"])
        #expect(opened.resume == [9])
    }

    @Test("a stale pool leaves the registry at once: the next lease opens a fresh pool, the stale one closes after its last lease")
    func retireLeasedPool() {
        var state = State(capacity: 5, overflow: 0)
        _ = state.lease(Self.t(1), waiter: 1)
        let first = state.openSucceeded(Self.t(1), pool: "old")
        let oldID = first.succeed[0].2
        _ = state.leaseIfOpen(Self.t(1))  // a second scope on the old pool
        let retired = state.retire(Self.t(1), id: oldID)
        #expect(retired.close.isEmpty, "two leases still hold the stale pool")
        #expect(state.entries[Self.t(1)] == nil)
        #expect(state.retired[oldID]?.leases == 2)
        // A new scope opens a fresh pool beside the stale one.
        #expect(state.lease(Self.t(1), waiter: 2).open == [Self.t(1)])
        let fresh = state.openSucceeded(Self.t(1), pool: "new")
        let newID = fresh.succeed[0].2
        #expect(newID != oldID)
        // Releases of the old leases go to the stale pool, never to the fresh entry.
        #expect(state.release(Self.t(1), now: .now, id: oldID).close.isEmpty)
        #expect(state.entries[Self.t(1)]?.leases == 1)
        let last = state.release(Self.t(1), now: .now, id: oldID)
        #expect(last.close.map(\.pool) == ["old"])
        #expect(last.close.map(\.reason) == [.stale])
        #expect(state.retired.isEmpty)
        // Retiring with a stale id (the fresh pool is another entry) does nothing.
        #expect(state.retire(Self.t(1), id: oldID).close.isEmpty)
        #expect(state.entries[Self.t(1)]?.phase.isOpen == true)
    }

    @Test("an idle stale pool closes at once; a release with an unknown id changes nothing")
    func retireIdlePool() {
        var state = State(capacity: 5, overflow: 0)
        Self.use(&state, Self.t(1))
        let id = state.entries[Self.t(1)]!.id
        let retired = state.retire(Self.t(1), id: id)
        #expect(retired.close.map(\.tenant) == [Self.t(1)])
        #expect(retired.close.map(\.reason) == [.stale])
        #expect(state.release(Self.t(1), now: .now, id: id).close.isEmpty)
        #expect(state.entries.isEmpty && state.retired.isEmpty)
    }

    @Test("shutdown waits for stale pools that are still leased")
    func shutdownWaitsForRetired() {
        var state = State(capacity: 5, overflow: 0)
        _ = state.lease(Self.t(1), waiter: 1)
        let id = state.openSucceeded(Self.t(1), pool: "old").succeed[0].2
        _ = state.retire(Self.t(1), id: id)
        #expect(state.shutdown(waiter: 9).resume.isEmpty, "the stale pool is still leased")
        let released = state.release(Self.t(1), now: .now, id: id)
        #expect(released.close.map(\.pool) == ["old"])
        #expect(released.resume == [9])
    }

    @Test("a drain waits for operations beside the registry (migrations), which cannot start while it runs")
    func drainWaitsForOperations() {
        var state = State(capacity: 5, overflow: 0)
        #expect(state.beginOperation(Self.t(1)) == nil)
        #expect(state.drain(Self.t(1), waiter: 7).resume.isEmpty, "a migration of the tenant is running")
        #expect(state.beginOperation(Self.t(1))?.code == .tenantNotFound, "no new operation while destroying")
        #expect(state.endOperation(Self.t(1)).resume == [7])
        _ = state.unblock(Self.t(1))
        #expect(state.beginOperation(Self.t(1)) == nil)
        #expect(state.endOperation(Self.t(1)).resume.isEmpty, "no drain waiting")
        _ = state.shutdown(waiter: 8)
        #expect(state.beginOperation(Self.t(1))?.code == .shutdown)
    }
}
