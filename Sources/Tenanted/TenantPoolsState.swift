import DequeModule

/// Why a pool was closed.
public enum PoolCloseReason: String, Sendable {
    /// The least recently used idle pool made room for another tenant.
    case evicted
    /// The pool was unused for longer than the idle timeout.
    case idle
    /// The tenant is being destroyed (or closed on request).
    case closed
    /// The registry is shutting down.
    case shutdown
    /// The store reported the pool stale: its tenant was destroyed, re-created, moved or replaced
    /// (by this process or another) since the pool opened.
    case stale
}

/// The bookkeeping of ``TenantPools``: which tenants have a pool, which are opening, how many leases
/// each has, which is least recently used, and who is waiting for what.
///
/// It is a pure state machine: every event mutates the state and returns ``Actions`` for the
/// asynchronous shell to perform (open a pool, close a pool, resume a waiter). It does no I/O and
/// is tested synchronously. `LeaseWaiter` and `DrainWaiter` are whatever the shell resumes
/// (continuations there, integers in tests).
struct TenantPoolsState<Pool, LeaseWaiter, DrainWaiter> {
    struct Entry {
        enum Phase {
            case opening([LeaseWaiter])
            case open(Pool)

            var isOpen: Bool {
                if case .open = self { return true }
                return false
            }
        }
        var phase: Phase
        /// Identifies this entry among every entry the tenant ever had, so a lease released after the
        /// entry was retired finds the pool it leased.
        let id: UInt64
        var leases = 0
        /// Recency: a strictly increasing tick, larger = more recently used.
        var lastUse: UInt64
        /// When the last lease was released (for the idle timeout).
        var lastReleased: ContinuousClock.Instant?

        var isIdle: Bool { phase.isOpen && leases == 0 }

        /// Adds a lease at `tick` when the pool is open; returns the pool, the entry's id and whether
        /// the entry was idle. In place, so a lease neither copies the entry nor hashes the tenant again.
        mutating func lease(at tick: UInt64) -> (pool: Pool, id: UInt64, wasIdle: Bool)? {
            guard case .open(let pool) = phase else { return nil }
            let wasIdle = leases == 0
            leases += 1
            lastUse = tick
            return (pool, id, wasIdle)
        }

        /// Ends a lease of entry `id` (any entry when `nil`) at `tick`; returns whether the entry is
        /// now idle, or `nil` when it has no lease to end or is another entry.
        mutating func release(at tick: UInt64, now: ContinuousClock.Instant, id expected: UInt64?) -> Bool? {
            guard leases > 0, expected == nil || id == expected else { return nil }
            leases -= 1
            lastUse = tick
            lastReleased = now
            return isIdle
        }
    }

    /// A pool retired while leased: closed when its last lease is released.
    struct Retired {
        var tenant: TenantID
        var pool: Pool
        var leases: Int
    }

    /// A lease request waiting for a free slot because the registry is at its hard limit.
    struct Admission {
        var id: UInt64
        var tenant: TenantID
        var waiter: LeaseWaiter
    }

    /// What the shell must do after an event, in this order: close, fail, succeed, open, resume.
    struct Actions {
        /// Tenants whose pool the shell must open now (then report `openSucceeded` / `openFailed`).
        var open: [TenantID] = []
        /// Waiters to resume with their tenant's pool, its entry id, and whether the pool was opened for
        /// them (`fresh`: its open checked the tenant just now); each has been counted as one lease.
        var succeed: [(LeaseWaiter, Pool, UInt64, fresh: Bool)] = []
        /// Waiters to resume with an error.
        var fail: [(LeaseWaiter, TenantedError)] = []
        /// Pools to shut down asynchronously, outside every lock.
        var close: [(tenant: TenantID, pool: Pool, reason: PoolCloseReason)] = []
        /// Waiters of `drain` / `shutdown` to resume.
        var resume: [DrainWaiter] = []
        /// Admission ids that were queued and need a timeout.
        var queued: [UInt64] = []
        /// Admission ids that left the queue without timing out (admitted, failed by shutdown): their
        /// timeouts are no longer needed.
        var dequeued: [UInt64] = []
        /// The pool count when it went above the capacity (to log), else `nil`.
        var overflow: Int?
    }

    /// The number of pools kept when nothing is leased.
    let capacity: Int
    /// The most pools (open or opening) ever held at once, leased ones included.
    let hardLimit: Int

    private(set) var entries: [TenantID: Entry] = [:]
    /// The idle entries' `lastUse`, kept beside `entries` by ``set(_:_:)``: eviction scans this, not
    /// the entries (copying an entry, its pool an existential, costs more than the whole scan).
    private var idleLastUse: [TenantID: UInt64] = [:]
    /// Stale pools still leased, by entry id.
    private(set) var retired: [UInt64: Retired] = [:]
    private(set) var admissions: Deque<Admission> = []
    /// Tenants that may not be leased (being destroyed), with who waits for their pool to close.
    private(set) var blocked: [TenantID: [DrainWaiter]] = [:]
    private(set) var isShutdown = false
    /// Operations running beside the registry, per tenant (``beginOperation(_:)``).
    private(set) var operations: [TenantID: Int] = [:]
    private var shutdownWaiters: [DrainWaiter] = []
    /// Pools started opening since the registry was made.
    private(set) var opensSinceStart = 0
    /// Pools closed to make room for another tenant since the registry was made.
    private(set) var evictionsSinceStart = 0
    /// Opens that took the registry above its capacity since it was made.
    private(set) var overflowsSinceStart = 0
    private var tick: UInt64 = 0
    private var nextAdmissionID: UInt64 = 0

    /// - Parameters:
    ///   - capacity: pools kept open when idle (at least 1).
    ///   - overflow: extra pools allowed while every pool is leased (at least 0).
    init(capacity: Int, overflow: Int) {
        precondition(capacity >= 1 && overflow >= 0, "validated by TenantPools.Configuration")
        self.capacity = capacity
        self.hardLimit = capacity + overflow
    }

    /// Tenants with an open or opening pool, least recently used first.
    var tenantsByRecency: [TenantID] {
        entries.sorted { $0.value.lastUse < $1.value.lastUse }.map(\.key)
    }

    /// What the registry holds now, for dashboards (``TenantPools/snapshot``).
    var snapshot: TenantPoolsSnapshot {
        var snapshot = TenantPoolsSnapshot(
            capacity: capacity,
            hardLimit: hardLimit,
            opensSinceStart: opensSinceStart,
            evictionsSinceStart: evictionsSinceStart,
            overflowsSinceStart: overflowsSinceStart
        )
        for entry in entries.values {
            switch entry.phase {
            case .opening: snapshot.opening += 1
            case .open: if entry.leases > 0 { snapshot.leased += 1 } else { snapshot.idle += 1 }
            }
        }
        snapshot.waiting = admissions.count
        snapshot.retiredLeased = retired.count
        return snapshot
    }

    /// The state of `tenant`'s pool in the registry.
    func poolState(of tenant: TenantID) -> TenantPoolState {
        guard let entry = entries[tenant] else { return .closed }
        switch entry.phase {
        case .opening: return .opening
        case .open: return entry.leases > 0 ? .leased(entry.leases) : .idle(since: entry.lastReleased)
        }
    }

    private mutating func nextTick() -> UInt64 {
        tick += 1
        return tick
    }

    // MARK: Events

    /// A task asks for a lease on `tenant`'s pool.
    mutating func lease(_ tenant: TenantID, waiter: LeaseWaiter) -> Actions {
        var actions = Actions()
        if isShutdown {
            actions.fail.append((waiter, TenantedError(.shutdown, "the tenant pools are shut down", tenant: tenant)))
            return actions
        }
        if blocked[tenant] != nil {
            actions.fail.append((waiter, Self.blockedError(tenant)))
            return actions
        }
        if var entry = entries[tenant] {
            entry.lastUse = nextTick()
            switch entry.phase {
            case .open(let pool):
                entry.leases += 1
                actions.succeed.append((waiter, pool, entry.id, fresh: false))
            case .opening(var waiters):
                waiters.append(waiter)
                entry.phase = .opening(waiters)
            }
            set(tenant, entry)
            return actions
        }
        if admissions.isEmpty {
            evictIdle(keepingRoomFor: 1, into: &actions)
            if entries.count < hardLimit {
                startOpening(tenant, waiters: [waiter], into: &actions)
                return actions
            }
        }
        nextAdmissionID += 1
        admissions.append(Admission(id: nextAdmissionID, tenant: tenant, waiter: waiter))
        actions.queued.append(nextAdmissionID)
        return actions
    }

    /// Leases `tenant`'s pool when it is open and may be leased, without waiting: the hot path of a
    /// warm tenant. Returns `nil` when the caller must go through ``lease(_:waiter:)``.
    mutating func leaseIfOpen(_ tenant: TenantID) -> (pool: Pool, id: UInt64)? {
        // Every lease of a warm pool comes here: one lookup, the entry changed in place (as `set`
        // would leave it: a leased entry is not idle).
        guard !isShutdown, blocked.isEmpty || blocked[tenant] == nil, let index = entries.index(forKey: tenant),
              let leased = entries.values[index].lease(at: tick + 1)
        else { return nil }
        tick += 1
        if leased.wasIdle { idleLastUse[tenant] = nil }
        return (leased.pool, leased.id)
    }

    /// The shell opened `tenant`'s pool.
    mutating func openSucceeded(_ tenant: TenantID, pool: Pool) -> Actions {
        var actions = Actions()
        guard var entry = entries[tenant], case .opening(let waiters) = entry.phase else {
            // Cannot happen: only the shell opens, and an opening entry is never removed by others.
            actions.close.append((tenant, pool, .closed))
            return actions
        }
        if isShutdown {
            set(tenant, nil)
            let error = TenantedError(.shutdown, "the tenant pools are shut down", tenant: tenant)
            actions.fail += waiters.map { ($0, error) }
            actions.close.append((tenant, pool, .shutdown))
            finishShutdownIfDone(into: &actions)
            return actions
        }
        entry.phase = .open(pool)
        entry.leases += waiters.count
        set(tenant, entry)
        actions.succeed += waiters.map { ($0, pool, entry.id, fresh: true) }
        evictIdle(keepingRoomFor: 0, into: &actions)
        return actions
    }

    /// The shell failed to open `tenant`'s pool.
    mutating func openFailed(_ tenant: TenantID, error: TenantedError) -> Actions {
        var actions = Actions()
        guard let entry = entries[tenant], case .opening(let waiters) = entry.phase else { return actions }
        set(tenant, nil)
        actions.fail += waiters.map { ($0, error) }
        resumeDrainIfDone(tenant, into: &actions)
        admit(into: &actions)
        finishShutdownIfDone(into: &actions)
        return actions
    }

    /// A lease on `tenant`'s pool was released. `id` is the entry id the lease was given; `nil`
    /// means the tenant's current entry.
    mutating func release(_ tenant: TenantID, now: ContinuousClock.Instant, id: UInt64? = nil) -> Actions {
        var actions = Actions()
        if let id, entries[tenant]?.id != id {
            releaseRetired(id, into: &actions)
            return actions
        }
        guard var entry = entries[tenant], entry.leases > 0 else { return actions }
        entry.leases -= 1
        entry.lastUse = nextTick()
        entry.lastReleased = now
        set(tenant, entry)
        if entry.isIdle, blocked[tenant] != nil || isShutdown {
            remove(tenant, reason: isShutdown ? .shutdown : .closed, into: &actions)
            finishShutdownIfDone(into: &actions)
            return actions
        }
        evictIdle(keepingRoomFor: 0, into: &actions)
        admit(into: &actions)
        return actions
    }

    /// Releases a lease when that needs nothing else (no eviction, admission, drain or shutdown):
    /// the hot path of a warm tenant. Returns `false` when the caller must use ``release(_:now:)``.
    mutating func releaseWithoutActions(_ tenant: TenantID, now: ContinuousClock.Instant, id: UInt64? = nil) -> Bool {
        guard !isShutdown, admissions.isEmpty, entries.count <= capacity, blocked.isEmpty || blocked[tenant] == nil,
            let index = entries.index(forKey: tenant),
            let isIdle = entries.values[index].release(at: tick + 1, now: now, id: id)
        else { return false }
        tick += 1
        // As `set` would: a leased entry was not idle, so only one that became idle is recorded.
        if isIdle { idleLastUse[tenant] = tick }
        return true
    }

    /// The store found the pool of entry `id` stale (its tenant was destroyed, re-created or moved
    /// since it opened). The entry leaves the registry at once, so the next lease opens a fresh pool;
    /// the stale pool closes now when idle, else when its last lease is released.
    mutating func retire(_ tenant: TenantID, id: UInt64) -> Actions {
        var actions = Actions()
        guard let entry = entries[tenant], entry.id == id, case .open(let pool) = entry.phase else { return actions }
        if entry.leases == 0 {
            remove(tenant, reason: .stale, into: &actions)
        } else {
            set(tenant, nil)
            retired[id] = Retired(tenant: tenant, pool: pool, leases: entry.leases)
            resumeDrainIfDone(tenant, into: &actions)
        }
        admit(into: &actions)
        finishShutdownIfDone(into: &actions)
        return actions
    }

    /// An operation on `tenant` that works beside the registry (a migration or rollback on a pool of
    /// its own) begins: a drain of the tenant waits for it. Returns the error to fail it with when the
    /// tenant is being destroyed or the registry is shut down.
    mutating func beginOperation(_ tenant: TenantID) -> TenantedError? {
        if isShutdown { return TenantedError(.shutdown, "the tenant pools are shut down", tenant: tenant) }
        if blocked[tenant] != nil { return Self.blockedError(tenant) }
        operations[tenant, default: 0] += 1
        return nil
    }

    /// An operation begun with ``beginOperation(_:)`` ended.
    mutating func endOperation(_ tenant: TenantID) -> Actions {
        var actions = Actions()
        guard let count = operations[tenant] else { return actions }
        operations[tenant] = count > 1 ? count - 1 : nil
        resumeDrainIfDone(tenant, into: &actions)
        return actions
    }

    /// Blocks new leases on `tenant` and closes its pool once no lease is held; `waiter` is resumed
    /// then (at once when no pool is open). Used before destroying a tenant.
    mutating func drain(_ tenant: TenantID, waiter: DrainWaiter) -> Actions {
        var actions = Actions()
        blocked[tenant, default: []].append(waiter)
        if let entry = entries[tenant], entry.isIdle {
            remove(tenant, reason: .closed, into: &actions)
        } else {
            resumeDrainIfDone(tenant, into: &actions)
        }
        return actions
    }

    /// Lifts the block set by ``drain(_:waiter:)``.
    mutating func unblock(_ tenant: TenantID) -> Actions {
        var actions = Actions()
        if let waiters = blocked.removeValue(forKey: tenant) { actions.resume += waiters }
        return actions
    }

    /// Closes idle pools unused since `deadline`.
    mutating func closeIdle(unusedSince deadline: ContinuousClock.Instant) -> Actions {
        var actions = Actions()
        let stale = entries.filter { entry in
            entry.value.isIdle && (entry.value.lastReleased.map { $0 <= deadline } ?? false)
        }
        for tenant in stale.keys { remove(tenant, reason: .idle, into: &actions) }
        admit(into: &actions)
        return actions
    }

    /// Closes up to `count` idle pools for which `matching` holds, least recently used first (a
    /// store asked for room: ``TenantPoolReclaimer``). Returns the actions and the pools it closed.
    mutating func closeIdle(count: Int, matching: (Pool) -> Bool) -> (actions: Actions, closed: [Pool]) {
        var actions = Actions()
        var candidates: [(tenant: TenantID, lastUse: UInt64)] = []
        for (tenant, entry) in entries where entry.isIdle && operations[tenant] == nil {
            if case .open(let pool) = entry.phase, matching(pool) { candidates.append((tenant, entry.lastUse)) }
        }
        candidates.sort { $0.lastUse < $1.lastUse }
        for victim in candidates.prefix(max(count, 0)) { remove(victim.tenant, reason: .evicted, into: &actions) }
        let closed = actions.close.map(\.pool)
        admit(into: &actions)
        return (actions, closed)
    }

    /// The task of a waiting lease request was cancelled: the request leaves the queue (so no pool
    /// opens for it) or the waiters of its tenant's opening pool. Returns the waiter to fail with
    /// `CancellationError` and its admission id (its timeout is no longer needed), or `nil` when it
    /// is no longer waiting (it got its pool, or failed, already).
    mutating func cancelWaiter(_ tenant: TenantID, matching: (LeaseWaiter) -> Bool) -> (waiter: LeaseWaiter, admission: UInt64?)? {
        if var entry = entries[tenant], case .opening(var waiters) = entry.phase, let index = waiters.firstIndex(where: matching) {
            let waiter = waiters.remove(at: index)
            entry.phase = .opening(waiters)
            set(tenant, entry)
            return (waiter, nil)
        }
        if let index = admissions.firstIndex(where: { $0.tenant == tenant && matching($0.waiter) }) {
            let admission = admissions.remove(at: index)
            return (admission.waiter, admission.id)
        }
        return nil
    }

    /// A queued lease request waited too long for a free slot.
    mutating func admissionTimedOut(_ id: UInt64) -> Actions {
        var actions = Actions()
        guard let index = admissions.firstIndex(where: { $0.id == id }) else { return actions }
        let admission = admissions.remove(at: index)
        actions.fail.append((admission.waiter, Self.exhaustedError(admission.tenant, limit: hardLimit)))
        return actions
    }

    /// Stops handing out leases, closes idle pools now and the others when their leases end;
    /// `waiter` is resumed when no pool is left.
    mutating func shutdown(waiter: DrainWaiter) -> Actions {
        var actions = Actions()
        isShutdown = true
        while let admission = admissions.popFirst() {
            let error = TenantedError(.shutdown, "the tenant pools are shut down", tenant: admission.tenant)
            actions.fail.append((admission.waiter, error))
            actions.dequeued.append(admission.id)
        }
        for (tenant, entry) in entries where entry.isIdle {
            remove(tenant, reason: .shutdown, into: &actions)
        }
        shutdownWaiters.append(waiter)
        finishShutdownIfDone(into: &actions)
        return actions
    }

    // MARK: Helpers

    /// Every change of an entry goes through here, so `idleLastUse` always lists the idle ones.
    private mutating func set(_ tenant: TenantID, _ entry: Entry?) {
        entries[tenant] = entry
        if let entry, entry.isIdle {
            idleLastUse[tenant] = entry.lastUse
        } else {
            idleLastUse[tenant] = nil
        }
    }

    private mutating func startOpening(_ tenant: TenantID, waiters: [LeaseWaiter], into actions: inout Actions) {
        let tick = nextTick()
        set(tenant, Entry(phase: .opening(waiters), id: tick, lastUse: tick))
        actions.open.append(tenant)
        opensSinceStart += 1
        if entries.count > capacity {
            actions.overflow = entries.count
            overflowsSinceStart += 1
        }
    }

    /// Evicts least recently used idle pools until `room` more fit under the capacity.
    private mutating func evictIdle(keepingRoomFor room: Int, into actions: inout Actions) {
        while entries.count + room > capacity {
            var victim: (tenant: TenantID, lastUse: UInt64)?
            for (tenant, lastUse) in idleLastUse where victim.map({ lastUse < $0.lastUse }) ?? true {
                victim = (tenant, lastUse)
            }
            guard let victim else { return }
            remove(victim.tenant, reason: .evicted, into: &actions)
        }
    }

    /// Lets queued lease requests in while there is room under the hard limit.
    private mutating func admit(into actions: inout Actions) {
        while let next = admissions.first {
            if var entry = entries[next.tenant] {
                admissions.removeFirst()
                actions.dequeued.append(next.id)
                entry.lastUse = nextTick()
                switch entry.phase {
                case .opening(var waiters):
                    waiters.append(next.waiter)
                    entry.phase = .opening(waiters)
                case .open(let pool):
                    entry.leases += 1
                    actions.succeed.append((next.waiter, pool, entry.id, fresh: false))
                }
                set(next.tenant, entry)
                continue
            }
            evictIdle(keepingRoomFor: 1, into: &actions)
            guard entries.count < hardLimit else { return }
            admissions.removeFirst()
            actions.dequeued.append(next.id)

            startOpening(next.tenant, waiters: [next.waiter], into: &actions)
        }
    }

    /// Removes an idle entry and schedules its pool to close.
    private mutating func remove(_ tenant: TenantID, reason: PoolCloseReason, into actions: inout Actions) {
        guard let entry = entries[tenant], case .open(let pool) = entry.phase else { return }
        set(tenant, nil)
        if reason == .evicted { evictionsSinceStart += 1 }
        actions.close.append((tenant, pool, reason))
        resumeDrainIfDone(tenant, into: &actions)
    }

    /// Resumes the drains of `tenant` once it has no pool and no operation left.
    private mutating func resumeDrainIfDone(_ tenant: TenantID, into actions: inout Actions) {
        guard entries[tenant] == nil, operations[tenant] == nil, let waiters = blocked[tenant], !waiters.isEmpty else { return }
        actions.resume += waiters
        blocked[tenant] = []
    }

    private mutating func releaseRetired(_ id: UInt64, into actions: inout Actions) {
        guard var stale = retired[id] else { return }
        stale.leases -= 1
        if stale.leases > 0 {
            retired[id] = stale
            return
        }
        retired[id] = nil
        actions.close.append((stale.tenant, stale.pool, .stale))
        finishShutdownIfDone(into: &actions)
    }

    private mutating func finishShutdownIfDone(into actions: inout Actions) {
        guard isShutdown, entries.isEmpty, retired.isEmpty else { return }
        actions.resume += shutdownWaiters
        shutdownWaiters = []
    }

    static func blockedError(_ tenant: TenantID) -> TenantedError {
        TenantedError(.tenantNotFound, "tenant '\(tenant)' is being destroyed", tenant: tenant)
    }

    static func exhaustedError(_ tenant: TenantID, limit: Int) -> TenantedError {
        TenantedError(
            .poolLimitReached,
            "no pool slot for tenant '\(tenant)': all \(limit) pools are in use; "
                + "raise maximumOpenPools or maximumOverflow, or shorten tenant scopes",
            tenant: tenant
        )
    }
}
