import Tenanted
@testable import TenantedPostgres
import TenantedTestSupport
import Testing

/// The connection budget's bookkeeping, driven event by event with no server and no clock.
/// Waiters are integers.
@Suite("Connection budget state machine")
struct ConnectionBudgetStateTests {
    typealias State = ConnectionBudgetState<Int>

    @Test("reservations within the limit are granted at once; past it they queue with the shortfall")
    func grantsThenQueues() {
        var state = State(limit: 10)
        guard case .granted = state.reserve(4, id: 1, waiter: 1) else { Issue.record("not granted"); return }
        guard case .granted = state.reserve(6, id: 2, waiter: 2) else { Issue.record("not granted"); return }
        #expect(state.reserved == 10)
        guard case .queued(let shortfall) = state.reserve(4, id: 3, waiter: 3) else { Issue.record("not queued"); return }
        #expect(shortfall == 4)
        #expect(state.reserved == 10)
    }

    @Test("a request larger than the whole budget is refused, not queued")
    func refusesMoreThanTheLimit() {
        var state = State(limit: 3)
        guard case .exceedsLimit = state.reserve(4, id: 1, waiter: 1) else { Issue.record("accepted"); return }
        #expect(state.queue.isEmpty && state.reserved == 0)
    }

    @Test("first come, first served: a large request at the head is not overtaken by a smaller one")
    func firstComeFirstServed() {
        var state = State(limit: 10)
        _ = state.reserve(8, id: 1, waiter: 1)
        guard case .queued = state.reserve(4, id: 2, waiter: 2) else { Issue.record("not queued"); return }
        // One connection would fit now, but a request is waiting: it queues behind.
        guard case .queued = state.reserve(1, id: 3, waiter: 3) else { Issue.record("overtook"); return }
        #expect(state.release(2) == [2])  // 6 in use: the head's 4 fit, the 1 behind it not
        #expect(state.reserved == 10)
        #expect(state.queue.map(\.id) == [3])
        #expect(state.release(4) == [3])
        #expect(state.reserved == 7)
        #expect(state.queue.isEmpty)
    }

    @Test("connections on their way back are not asked for twice")
    func returningConnectionsReduceTheShortfall() {
        var state = State(limit: 8)
        _ = state.reserve(4, id: 1, waiter: 1)
        _ = state.reserve(4, id: 2, waiter: 2)
        guard case .queued(let shortfall) = state.reserve(4, id: 3, waiter: 3) else { Issue.record("not queued"); return }
        #expect(shortfall == 4)
        state.beginReturning(4)
        #expect(state.shortfall == 0)
        #expect(state.release(4, returning: true) == [3])
        #expect(state.reserved == 8 && state.returning == 0)
    }

    @Test("a withdrawn head lets the requests behind it in; a granted request cannot be withdrawn")
    func withdraw() {
        var state = State(limit: 4)
        _ = state.reserve(3, id: 1, waiter: 1)
        _ = state.reserve(4, id: 2, waiter: 2)
        _ = state.reserve(1, id: 3, waiter: 3)
        let (waiter, granted) = state.withdraw(2)
        #expect(waiter == 2)
        #expect(granted == [3])
        #expect(state.reserved == 4)
        #expect(state.withdraw(3).waiter == nil)
        #expect(state.withdraw(99).waiter == nil)
    }

    @Test("a withdrawn request behind the head grants nothing and leaves the queue")
    func withdrawBehindTheHead() {
        var state = State(limit: 2)
        _ = state.reserve(2, id: 1, waiter: 1)
        _ = state.reserve(2, id: 2, waiter: 2)
        _ = state.reserve(1, id: 3, waiter: 3)
        let (waiter, granted) = state.withdraw(3)
        #expect(waiter == 3 && granted.isEmpty)
        #expect(state.queue.map(\.id) == [2])
        #expect(!state.isQueued(3) && state.isQueued(2))
    }
}

/// The budget's asynchronous shell: waiting, cancellation, timeout and the request for room.
@Suite("Connection budget")
struct ConnectionBudgetTests {
    @Test("a queued reservation whose task is cancelled leaves the queue and throws CancellationError")
    func cancelledWaiterLeavesTheQueue() async throws {
        let budget = ConnectionBudget(server: "main", limit: 2)
        try await budget.reserve(2, for: "a test", tenant: nil, timeout: .seconds(60), reclaim: { _ in })
        let waiting = Task {
            try await budget.reserve(1, for: "a test", tenant: nil, timeout: .seconds(60), reclaim: { _ in })
        }
        while budget.waiting == 0 { try await Task.sleep(for: .milliseconds(5)) }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(budget.waiting == 0)
        budget.release(2)
        #expect(budget.reserved == 0, "the cancelled request was not granted")
    }

    @Test("past the timeout a waiting reservation fails with poolLimitReached naming the server and tenant")
    func timesOut() async throws {
        let budget = ConnectionBudget(server: "eu-1", limit: 1)
        try await budget.reserve(1, for: "a test", tenant: nil, timeout: .seconds(60), reclaim: { _ in })
        let tenant = try TenantID("acme")
        await #expect {
            try await budget.reserve(1, for: "the pool of tenant 'acme'", tenant: tenant, timeout: .milliseconds(100), reclaim: { _ in })
        } throws: { error in
            guard let error = error as? TenantedError else { return false }
            return error.code == .poolLimitReached && error.tenant == tenant && error.message.contains("'eu-1'")
                && error.message.contains("maximumConnectionsPerServer")
        }
        #expect(budget.waiting == 0 && budget.reserved == 1)
    }

    @Test("a queued reservation asks for room with its shortfall, again while it waits, and is granted on release")
    func asksForRoomThenIsGranted() async throws {
        let budget = ConnectionBudget(server: "main", limit: 4)
        try await budget.reserve(3, for: "a test", tenant: nil, timeout: .seconds(60), reclaim: { _ in })
        let asked = Locked<[Int]>([])
        let waiting = Task {
            try await budget.reserve(2, for: "a test", tenant: nil, timeout: .seconds(60), reclaim: { shortfall in asked.withLock { $0.append(shortfall) } })
        }
        while asked.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(asked.withLock { $0.allSatisfy { $0 == 1 } }, "one connection short")
        budget.release(3)
        try await waiting.value
        #expect(budget.reserved == 2 && budget.waiting == 0)
    }
}
