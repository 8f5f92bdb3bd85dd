@testable import Tenanted
import Synchronization
import Testing

/// A store asks the registry for room (``TenantPoolReclaimer``): idle pools that match close, least
/// recently used first; leased ones never.
@Suite("Closing idle pools at a store's request")
struct TenantPoolReclaimerTests {
    typealias State = TenantPoolsState<String, Int, Int>

    static func t(_ number: Int) -> TenantID {
        do { return try TenantID("tenant\(number)") } catch { preconditionFailure("valid") }
    }

    /// Opens tenants 1…`count` in order and releases each (so 1 is least recently used).
    static func openIdle(_ count: Int) -> State {
        var state = State(capacity: 50, overflow: 0)
        for number in 1...count {
            _ = state.lease(t(number), waiter: number)
            _ = state.openSucceeded(t(number), pool: number.isMultiple(of: 2) ? "even-\(number)" : "odd-\(number)")
            _ = state.release(t(number), now: .now)
        }
        return state
    }

    @Test("the least recently used idle pools that match close, up to the count asked for")
    func closesLeastRecentlyUsedMatching() {
        var state = Self.openIdle(6)
        let (actions, closed) = state.closeIdle(count: 2) { $0.hasPrefix("even") }
        #expect(closed == ["even-2", "even-4"])
        #expect(actions.close.map(\.tenant) == [Self.t(2), Self.t(4)])
        #expect(actions.close.allSatisfy { $0.reason == .evicted })
        #expect(state.entries.count == 4 && state.entries[Self.t(6)] != nil)
    }

    @Test("a leased pool is never closed, and asking for more than there is closes what there is")
    func leasedPoolsStay() {
        var state = Self.openIdle(3)
        _ = state.lease(Self.t(1), waiter: 9)
        let (_, closed) = state.closeIdle(count: 10) { _ in true }
        #expect(closed == ["even-2", "odd-3"])
        #expect(state.entries.keys.sorted() == [Self.t(1)])
        #expect(state.closeIdle(count: 0) { _ in true }.closed.isEmpty)
    }

    @Test("the reclaimer a Tenancy hands its store reaches the registry, and asks nothing for a count of 0")
    func reclaimerCallsThrough() {
        let calls = Counter()
        let reclaimer = TenantPoolReclaimer<String> { count, matching in
            calls.add()
            return ["a", "b", "c"].filter(matching).prefix(count).map { $0 }
        }
        #expect(reclaimer.closeIdlePools(2) { $0 != "a" } == ["b", "c"])
        #expect(reclaimer.closeIdlePools(0) { _ in true } == [])
        #expect(calls.value == 1)
    }
}

/// Counts calls from a `@Sendable` closure.
private final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
